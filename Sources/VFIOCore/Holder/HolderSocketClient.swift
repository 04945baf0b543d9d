internal import CVFIO
#if canImport(Glibc)
import Glibc
#endif

/// A client of the holder socket, for tests and tools: connects, sends bytes, reads the answer line and
/// the descriptors attached to it. Every call blocks: use it from a dedicated thread.
public final class HolderSocketClient: Sendable {
    /// The connected socket.
    public let fd: Int32

    /// Connects to `path` (any length). Throws `VFIOError` with the errno.
    public init(path: String) throws(VFIOError) {
        let fd = UnixListener.connect(path: path)
        guard fd >= 0 else { throw VFIOError(operation: "connect", errno: VFIOErrno(rawValue: errno), path: path) }
        self.fd = fd
    }

    /// Writes all of `bytes`; `false` when the server closed the connection first (`EPIPE`, `ECONNRESET`).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var written = 0
        while written < bytes.count {
            // send(2) of the unsent tail; MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
            let count = bytes.withUnsafeBytes { raw in
                retryingEINTR { Glibc.send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL)) }
            }
            guard count > 0 else { return false }
            written += count
        }
        return true
    }

    /// Reads to the end of the stream (vfiod closes after its one answer): the answer line (without its
    /// newline; `nil` when the server closed without one, or reset the connection) and the descriptors
    /// that came with it, which the caller now owns (close-on-exec).
    public func receive() -> (line: String?, descriptors: [Int32]) {
        var bytes: [UInt8] = []
        var descriptors: [Int32] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var fds = [Int32](repeating: -1, count: Int(CVFIO_SOCKET_MAX_FDS))
        while true {
            var count: Int32 = 0
            // recvmsg(2) into `chunk`, descriptors into `fds` (room for CVFIO_SOCKET_MAX_FDS), both
            // written only during the call.
            let got = chunk.withUnsafeMutableBytes { raw in
                fds.withUnsafeMutableBufferPointer { numbers in
                    retryingEINTR { cvfio_receive_with_fds(fd, raw.baseAddress, raw.count, numbers.baseAddress, &count) }
                }
            }
            descriptors += fds.prefix(Int(count))
            guard got > 0 else { break }
            bytes += chunk[..<got]
        }
        guard let newline = bytes.firstIndex(of: 0x0a) else { return (nil, descriptors) }
        return (String(decoding: bytes[..<newline], as: UTF8.self), descriptors)
    }

    deinit { Glibc.close(fd) }
}
