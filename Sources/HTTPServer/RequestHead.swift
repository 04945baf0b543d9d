/// The checks on a request's head that libmicrohttpd leaves to the application: sizes, framing and
/// `Host` (RFC 9112), and the absolute-form request target.
enum RequestHead {
    /// The longest request target read (path and query), in bytes; longer ones get 414 `uri_too_long`.
    static let maxTargetBytes = 8 * 1024
    /// The largest header section read (names, values and separators), in bytes; larger ones get 431.
    static let maxHeaderBytes = 16 * 1024
    /// libmicrohttpd's memory pool per connection. Our limits above must trip before libmicrohttpd's
    /// own (the request line or a header line not fitting the pool), which answer in HTML.
    static let connectionMemoryBytes = 64 * 1024

    /// The target in origin form: an absolute-form target (`http://host:port/path?query`, which RFC 9112
    /// says servers must accept) reduced to its path and query (`/` when it has no path). Any other
    /// target is returned as it is.
    static func originForm(_ raw: [UInt8]) -> [UInt8] {
        let lowered = raw.prefix(8).map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }
        let scheme: Int
        if lowered.starts(with: Array("http://".utf8)) {
            scheme = 7
        } else if lowered.starts(with: Array("https://".utf8)) {
            scheme = 8
        } else {
            return raw
        }
        let rest = raw[scheme...]
        guard let slash = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) else {
            return Array("/".utf8)
        }
        let target = Array(rest[slash...])
        return target.first == UInt8(ascii: "?") ? Array("/".utf8) + target : target
    }

    /// The problem with the head, if any: a target or header section over its limit, ambiguous
    /// framing, a transfer coding other than chunked, or HTTP/1.1 without exactly one `Host`.
    static func problem(version: String, targetBytes: Int, headers: [(name: String, value: String)]) -> Problem? {
        if targetBytes > maxTargetBytes { return .uriTooLong(limit: maxTargetBytes) }
        let headerBytes = headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if headerBytes > maxHeaderBytes { return .headerFieldsTooLarge(limit: maxHeaderBytes) }
        if let problem = framingProblem(headers) { return problem }
        var hosts = 0
        for header in headers where asciiCaseInsensitiveEquals(header.name, "Host") { hosts += 1 }
        if hosts > 1 || (hosts == 0 && version != "HTTP/1.0") { return .invalidHost }
        return nil
    }

    /// Transfer-Encoding and Content-Length (RFC 9112, section 6): chunked alone, or one Content-Length.
    static func framingProblem(_ headers: [(name: String, value: String)]) -> Problem? {
        // Most requests (every GET) carry neither framing header: nothing to look at then, and nothing built.
        let framed = headers.contains {
            asciiCaseInsensitiveEquals($0.name, "Content-Length") || asciiCaseInsensitiveEquals($0.name, "Transfer-Encoding")
        }
        guard framed else { return nil }
        let lengths = headers.filter { asciiCaseInsensitiveEquals($0.name, "Content-Length") }
        let codings = headers.filter { asciiCaseInsensitiveEquals($0.name, "Transfer-Encoding") }
            .flatMap { $0.value.split(separator: ",") }
            .map { asciiLowercased(String($0).trimmingASCIISpaces) }
        if lengths.count > 1 { return .malformedFraming }
        if codings.isEmpty { return nil }
        if !lengths.isEmpty || codings.last != "chunked" { return .malformedFraming }
        return codings.count == 1 ? nil : .unsupportedTransferEncoding
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate var trimmingASCIISpaces: String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
