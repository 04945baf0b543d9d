internal import Glibc

/// What the request-deadline sweeper does to a connection's socket behind libmicrohttpd's back: read
/// the kernel's TCP state, write a last answer, shut the socket down. Every call is non-blocking. The
/// caller holds the connection's phase lock, so libmicrohttpd has not closed `fd` yet. `answer` and
/// `shutDown` are used while the connection is receiving a request, so libmicrohttpd is not writing to
/// it; `state` is also read for suspended streams (to find clients that went away).
enum PeerSocket {
    /// The kernel's view of the connection.
    struct State {
        /// The peer sent FIN (or reset): it will send nothing more.
        var halfClosed: Bool
        /// Milliseconds since the last data segment arrived.
        var millisecondsSinceData: UInt32
        /// Bytes received that libmicrohttpd has not read yet.
        var unreadBytes: Int32

        /// True when data arrived after `since` (monotonic µs, like `now`). The kernel counts in
        /// jiffies, hence the 20 ms of slack.
        func receivedData(since: Int64, now: Int64) -> Bool {
            let arrived = now &- Int64(millisecondsSinceData) * 1000
            return arrived > since + 20_000 && arrived <= now
        }
    }

    /// TCP_INFO for `fd`, nil when the kernel does not give it.
    static func state(_ fd: Int32) -> State? {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        // getsockopt fills at most `length` bytes of a struct tcp_info for a TCP socket.
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return nil }
        // tcpi_state holds the kernel's TCP_* state numbers: TCP_CLOSE_WAIT once the peer's FIN is in,
        // TCP_CLOSE after a reset.
        let state = Int32(info.tcpi_state)
        // FIONREAD on a TCP socket stores the bytes waiting in its receive queue in the int it points to.
        var unread: Int32 = 0
        if ioctl(fd, UInt(FIONREAD), &unread) != 0 { unread = 0 }
        return State(halfClosed: state == Int32(TCP_CLOSE_WAIT) || state == Int32(TCP_CLOSE),
                     millisecondsSinceData: info.tcpi_last_data_recv, unreadBytes: unread)
    }

    /// Writes `response` as a complete HTTP/1.1 message with `Connection: close` (whatever fits in the
    /// socket buffer without waiting: a few hundred bytes always do on a connection that is only
    /// receiving), then shuts down the sending side so the client sees the end of it.
    static func answer(_ fd: Int32, _ response: HTTPResponse) {
        let body = response.body
        var head = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if let id = response.problem?.requestID { head += "X-Request-Id: \(id)\r\n" }
        head += "Server: vfiod\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        // send reads `bytes.count` bytes from the buffer; MSG_DONTWAIT never blocks, MSG_NOSIGNAL
        // turns a closed peer into EPIPE instead of SIGPIPE.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Shuts both directions: libmicrohttpd's next read sees the end and it closes the connection.
    static func shutDown(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        default: return "Error"
        }
    }
}
