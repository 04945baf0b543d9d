internal import CVFIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One client of the holder socket, after its request line (or its refusal) was read: the broker answers
/// it once with ``reply(_:passing:)``, which closes it. Dropped without a reply, it is closed unanswered.
public final class HolderConnection: Sendable {
    /// Who connected, as the kernel says.
    public let peer: PeerCredentials
    private let socket: Mutex<Int32>

    init(socket: Int32, peer: PeerCredentials) {
        self.socket = Mutex(socket)
        self.peer = peer
    }

    /// Sends `line` (a newline is appended) with `descriptors` attached to the same message by
    /// `SCM_RIGHTS`, in their order, then closes the descriptors and the connection. Never blocks: the socket is non-blocking
    /// and the answer (at most a few KiB) fits the empty send buffer of a connection that has had none.
    /// Returns `false` when the peer could not be sent the whole answer (it went away); a second reply
    /// does nothing and returns `false`.
    @discardableResult
    public func reply(_ line: [UInt8], passing descriptors: HolderDescriptors? = nil) -> Bool {
        socket.withLock { fd in
            guard fd >= 0 else { return false }
            defer { Glibc.close(fd); fd = -1 }
            let bytes = line + [0x0a]
            let fds = descriptors?.rawValues ?? []
            // cvfio_send_with_fds copies `bytes` and the fd numbers into one sendmsg(2) during the call; the
            // kernel takes its own references to the files, so the caller's may be closed right after.
            let sent = bytes.withUnsafeBytes { buffer in
                fds.withUnsafeBufferPointer { numbers in
                    retryingEINTR { cvfio_send_with_fds(fd, buffer.baseAddress, buffer.count, numbers.baseAddress, Int32(numbers.count)) }
                }
            }
            // vfiod's own copies go before the connection does: a peer that reads to the end of the stream
            // has nothing left of vfiod's to race with.
            descriptors?.close()
            return sent == bytes.count
        }
    }

    deinit { socket.withLock { if $0 >= 0 { Glibc.close($0) } } }
}
