import Foundation
internal import CVFIO
#if canImport(Glibc)
import Glibc
#endif

/// The holder socket's one thread: accepts, reads each connection's line without blocking, enforces the
/// line limit and the deadline, and hands each connection over once. Owned by that thread alone.
final class HolderPollLoop: @unchecked Sendable {
    // @unchecked: every mutable field is touched only by the loop's own thread, after `run()` starts.
    private struct Client {
        let fd: Int32
        let peer: PeerCredentials
        let deadline: ContinuousClock.Instant
        var buffer: [UInt8] = []
    }

    private let listenFD: Int32
    private let wakeFD: Int32
    private let limits: HolderSocket.Limits
    private let handler: @Sendable (HolderConnection, HolderSocket.Event) -> Void
    private var clients: [Client] = []

    init(listen: Int32, wake: Int32, limits: HolderSocket.Limits, handler: @escaping @Sendable (HolderConnection, HolderSocket.Event) -> Void) {
        listenFD = listen
        wakeFD = wake
        self.limits = limits
        self.handler = handler
    }

    /// Runs until the wake pipe is written or closed; then closes the listener and the unfinished clients.
    func run() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var polled = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0), pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
                + clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            // poll(2) reads the fds and events of `polled` and writes each `revents` during the call.
            let ready = poll(&polled, nfds_t(polled.count), timeoutMilliseconds())
            if ready < 0 && errno != EINTR { break }
            if polled[0].revents != 0 { break }
            var finished: Set<Int32> = []
            for (index, entry) in polled.enumerated().dropFirst(2) where entry.revents != 0 {
                if read(clientAt: index - 2, into: &chunk) { finished.insert(entry.fd) }
            }
            let now = ContinuousClock.now
            for client in clients where !finished.contains(client.fd) && client.deadline <= now {
                hand(client, .silent)
                finished.insert(client.fd)
            }
            clients.removeAll { finished.contains($0.fd) }
            if polled[1].revents != 0 { acceptAll() }
        }
        close(listenFD)
        close(wakeFD)
        for client in clients { close(client.fd) }
        clients = []
    }

    /// Milliseconds to the nearest deadline (at least 1 when one is pending), or -1 for none.
    private func timeoutMilliseconds() -> Int32 {
        guard let nearest = clients.map(\.deadline).min() else { return -1 }
        let left = ContinuousClock.now.duration(to: nearest)
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(max(1, min(milliseconds + 1, 60_000)))
    }

    /// Reads what the client sent; `true` when it was handed over or closed (no longer polled).
    private func read(clientAt index: Int, into chunk: inout [UInt8]) -> Bool {
        let fd = clients[index].fd
        // recv(2) writes at most `chunk.count` bytes into `chunk` during the call; never blocks (MSG_DONTWAIT).
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        if count <= 0 {
            // End of stream (or an error) before a whole line: nothing was asked, nothing is answered.
            close(fd)
            return true
        }
        clients[index].buffer += chunk[..<count]
        let buffer = clients[index].buffer
        if let newline = buffer.firstIndex(of: 0x0a), newline < limits.lineBytes {
            hand(clients[index], .line(Array(buffer[..<newline])))
            return true
        }
        if buffer.count >= limits.lineBytes {
            hand(clients[index], .lineTooLong)
            return true
        }
        return false
    }

    /// Accepts every pending connection; past the connection limit, each is handed over as refused at once.
    private func acceptAll() {
        while true {
            let fd = cvfio_accept_nonblocking(listenFD)
            if fd < 0 { return }
            let peer = PeerCredentials.of(socket: fd) ?? PeerCredentials(pid: 0, uid: UInt32.max, gid: UInt32.max, command: "?")
            let client = Client(fd: fd, peer: peer, deadline: .now + .milliseconds(Int64(limits.silenceSeconds * 1000)))
            if clients.count >= limits.connections {
                hand(client, .tooManyConnections)
            } else {
                clients.append(client)
            }
        }
    }

    private func hand(_ client: Client, _ event: HolderSocket.Event) {
        handler(HolderConnection(socket: client.fd, peer: client.peer), event)
    }
}
