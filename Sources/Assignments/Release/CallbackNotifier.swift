#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// POSTs a small JSON document to a holder's callback URL with a bounded timeout, and reports the status
/// line's code or what failed. Blocking socket I/O: run it on a dedicated thread. (The audit head's
/// witness is posted through it too.)
public enum CallbackNotifier {
    /// Sends `body` to `url`; every socket operation (connect included) gives up after `timeoutSeconds`.
    /// Returns the answer's status code as text, or `failed: …`.
    public static func post(_ body: [UInt8], to url: CallbackURL, timeoutSeconds: Int = 5) -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // An address literal is taken as written, never looked up; only a name is resolved.
        hints.ai_flags = AI_NUMERICSERV | (CallbackHosts.addressBytes(url.host) != nil ? AI_NUMERICHOST : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        // getaddrinfo(3) allocates the list; freed below.
        guard getaddrinfo(url.host, String(url.port), &hints, &list) == 0, let first = list else {
            return "failed: cannot resolve \(url.host)"
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "failed: socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        // SO_SNDTIMEO bounds connect(2) on Linux too; SO_RCVTIMEO bounds the reads.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return "failed: connect: \(String(cString: strerror(errno)))"
        }
        // The path and host are ASCII RFC 3986 characters only (CallbackURL's grammar): nothing here can
        // end the request line or a header early.
        let head = "POST \(url.path) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\nUser-Agent: vfiod\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            // send(2) reads from our array for the given count.
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return "failed: send: \(String(cString: strerror(errno)))" }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while response.count < 512, !response.contains(10) {
            // recv(2) writes at most buffer.count bytes into our buffer.
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            response += buffer[..<n]
        }
        let statusLine = String(decoding: response.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
            return response.isEmpty ? "failed: no answer within \(timeoutSeconds) s" : "failed: not an HTTP answer"
        }
        return String(code)
    }
}

extension AssignmentService {
    /// Calls a release's callback on the observer thread and says what came of it (the operation's
    /// `callback`). A URL that no longer parses or whose host `callbackHosts` no longer lists — stored
    /// before vfiod's grammar or configuration tightened — is not called.
    func callback(_ text: String, _ body: [UInt8]) async -> String {
        guard let url = CallbackURL(text) else { return "failed: not a valid callback URL; not called" }
        guard callbackHosts.allows(url) else { return "failed: host \(url.host) is not in callbacks.allowedHosts; not called" }
        do {
            return try await observer.run(label: "callback") { CallbackNotifier.post(body, to: url) }
        } catch {
            return "failed: not sent (\(error))"
        }
    }
}
