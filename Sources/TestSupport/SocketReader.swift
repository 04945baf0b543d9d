internal import Glibc

/// Buffered reading of HTTP/1.1 responses from a blocking socket, for `HTTPTestClient`.
struct SocketReader {
    private var pending: [UInt8] = []

    /// A connected blocking TCP socket with a receive timeout.
    static func connect(host: String, port: UInt16, timeoutSeconds: Int) throws(HTTPTestClientError) -> Int32 {
        var ipv4 = sockaddr_in()
        var ipv6 = sockaddr_in6()
        let isIPv4 = inet_pton(AF_INET, host, &ipv4.sin_addr) == 1
        guard isIPv4 || inet_pton(AF_INET6, host, &ipv6.sin6_addr) == 1 else {
            throw .connectFailed(errno: EINVAL)
        }
        let fd = socket(isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .connectFailed(errno: errno) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if isIPv4 {
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = port.bigEndian
            // connect reads a sockaddr_in of the given length.
            result = withUnsafePointer(to: &ipv4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            ipv6.sin6_family = sa_family_t(AF_INET6)
            ipv6.sin6_port = port.bigEndian
            // connect reads a sockaddr_in6 of the given length.
            result = withUnsafePointer(to: &ipv6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            throw .connectFailed(errno: code)
        }
        return fd
    }

    /// Reads more bytes into `pending`; false at end of stream.
    private mutating func fill(fd: Int32) throws(HTTPTestClientError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                pending.append(contentsOf: chunk[0..<count])
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return false }
            throw .ioFailed(errno: errno)
        }
    }

    /// Bytes up to and including the next CRLF, without the CRLF.
    private mutating func line(fd: Int32) throws(HTTPTestClientError) -> [UInt8] {
        var searchFrom = 0
        while true {
            if pending.count >= 2 {
                for index in max(searchFrom, 1)..<pending.count
                where pending[index - 1] == 13 && pending[index] == 10 {
                    let line = Array(pending[0..<(index - 1)])
                    pending.removeFirst(index + 1)
                    return line
                }
                searchFrom = pending.count
            }
            guard try fill(fd: fd) else { throw .closedByPeer }
        }
    }

    /// Exactly `count` bytes.
    private mutating func bytes(_ count: Int, fd: Int32) throws(HTTPTestClientError) -> [UInt8] {
        while pending.count < count {
            guard try fill(fd: fd) else { throw .closedByPeer }
        }
        let result = Array(pending[0..<count])
        pending.removeFirst(count)
        return result
    }

    /// One response: status line, headers, and a body framed by Content-Length, chunks, or close.
    mutating func readResponse(fd: Int32, headRequest: Bool) throws(HTTPTestClientError) -> TestResponse {
        var response = try readHead(fd: fd)
        if response.status == 100 { return try readResponse(fd: fd, headRequest: headRequest) }
        let status = response.status
        if headRequest || status == 204 || status == 304 || (100..<200).contains(status) { return response }
        if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            while let chunk = try readChunk(fd: fd) { response.body += chunk }
        } else if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            response.body = try bytes(length, fd: fd)
        } else {
            response.body = try readToEnd(fd: fd)
        }
        return response
    }

    /// The next chunk of a chunked body; nil after the last one (and its trailers).
    mutating func readChunk(fd: Int32) throws(HTTPTestClientError) -> [UInt8]? {
        let sizeLine = String(decoding: try line(fd: fd), as: UTF8.self)
        guard let size = Int(sizeLine.split(separator: ";")[0].trimmingSpaces, radix: 16) else {
            throw .malformedResponse("chunk size \(sizeLine)")
        }
        if size == 0 {
            while try !line(fd: fd).isEmpty {}
            return nil
        }
        let chunk = try bytes(size, fd: fd)
        _ = try line(fd: fd)
        return chunk
    }

    /// A response's status line and headers (the body is left unread).
    mutating func readHead(fd: Int32) throws(HTTPTestClientError) -> TestResponse {
        var statusLine = try line(fd: fd)
        while statusLine.isEmpty { statusLine = try line(fd: fd) }
        let parts = String(decoding: statusLine, as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformedResponse(String(decoding: statusLine, as: UTF8.self))
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let raw = try line(fd: fd)
            if raw.isEmpty { break }
            let text = String(decoding: raw, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { throw .malformedResponse(text) }
            headers.append((name: String(text[..<colon]),
                            value: String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" })))
        }
        return TestResponse(status: status, headers: headers, body: [])
    }

    /// Everything until the peer closes.
    mutating func readToEnd(fd: Int32) throws(HTTPTestClientError) -> [UInt8] {
        while try fill(fd: fd) {}
        defer { pending = [] }
        return pending
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
