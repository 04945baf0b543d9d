import Foundation
import Glibc
import TestSupport

/// One Server-Sent Events frame as a client reads it.
struct SSEFrame: Sendable, CustomStringConvertible {
    var id: String?
    var type: String
    var data: String
    /// The data parsed as a JSON object.
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
    var description: String { "\(type) \(id ?? "-") \(data)" }
}

/// A blocking client of `GET /v1/events` over a plain socket: sends the request, reads the head, then
/// decodes the chunked body into frames as they arrive. Reads time out after `timeoutSeconds` (a broken
/// server fails the test instead of hanging it). Use from a dedicated thread.
final class EventStreamClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var body: [UInt8] = []
    private var ended = false
    /// The response's status and headers.
    private(set) var status = 0
    private(set) var headers: [(String, String)] = []
    /// Comments (`: heartbeat`) and `retry:` lines seen.
    private(set) var preamble: [String] = []

    /// `receiveBufferBytes`: a small socket receive buffer, for a reader that falls behind.
    init(port: UInt16, path: String, headers: [(String, String)] = [], timeoutSeconds: Int = 20, receiveBufferBytes: Int32? = nil) throws {
        // A blocking IPv4 TCP socket to 127.0.0.1 with a receive timeout.
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Set before connecting, so the window the kernel offers stays this small.
        if var size = receiveBufferBytes { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Glibc.close(fd); throw FixtureError("connect: \(errno)") }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw FixtureError("send: \(errno)") }
        try readHead()
    }

    deinit { Glibc.close(fd) }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// The whole body of a response that is not a stream (a problem), as JSON.
    func problem() throws -> [String: Any] {
        let length = Int(header("Content-Length") ?? "0") ?? 0
        while buffer.count < length { guard try fill() else { break } }
        return (try? JSONSerialization.jsonObject(with: Data(buffer.prefix(length)))) as? [String: Any] ?? [:]
    }

    /// The next frame; `nil` when the stream ended.
    func next() throws -> SSEFrame? {
        while true {
            if let end = Self.find([10, 10], in: body) {
                let block = String(decoding: body[..<end], as: UTF8.self)
                body.removeFirst(end + 2)
                var frame = SSEFrame(id: nil, type: "", data: "")
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") || line.hasPrefix("retry:") { preamble.append(String(line)) }
                    if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { frame.type = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { frame.data = String(line.dropFirst(6)) }
                }
                if !frame.type.isEmpty { return frame }
                continue
            }
            if ended { return nil }
            try readChunk()
        }
    }

    /// Frames until `stop` says so (the frame it stopped on included), or the stream ended.
    func frames(until stop: (SSEFrame) -> Bool) throws -> [SSEFrame] {
        var frames: [SSEFrame] = []
        while let frame = try next() {
            frames.append(frame)
            if stop(frame) { break }
        }
        return frames
    }

    private func readHead() throws {
        while Self.find([13, 10, 13, 10], in: buffer) == nil { guard try fill() else { throw FixtureError("no response head") } }
        let end = Self.find([13, 10, 13, 10], in: buffer)!
        let lines = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(end + 4)
        status = Int(lines[0].split(separator: " ")[1]) ?? 0
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    private func readChunk() throws {
        while Self.find([13, 10], in: buffer) == nil {
            guard try fill() else { ended = true; return }
        }
        let lineEnd = Self.find([13, 10], in: buffer)!
        let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
        while buffer.count < lineEnd + 2 + size + 2 {
            guard try fill() else { ended = true; return }
        }
        body += buffer[(lineEnd + 2)..<(lineEnd + 2 + size)]
        buffer.removeFirst(lineEnd + 2 + size + 2)
        if size == 0 { ended = true }
    }

    /// Reads more bytes; false at the end of the connection.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count < 0 { throw FixtureError("recv: errno \(errno) (timed out?)") }
        if count == 0 { return false }
        buffer += chunk[..<count]
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
