#if canImport(Glibc)
import Glibc
#endif

/// An `http://host[:port][/path][?query]` URL a holder asked to be called at when its release starts.
/// Plain HTTP only: vfiod carries no TLS stack, and the callback carries no secret (the holder reads the
/// assignment with its own token).
///
/// Parsed strictly, so the request line and `Host` header vfiod writes hold nothing but what RFC 3986
/// allows: the host is a DNS name (letters, digits, `-`, labels of 1–63 characters), a dotted IPv4
/// address or a bracketed IPv6 address (no zone); the port 1–65535 without leading zeros; the path and
/// query unreserved characters, sub-delimiters, `:` `@` `/` `?` and `%HH` escapes. No user info, no
/// fragment, no spaces, control bytes or raw non-ASCII; at most 2,048 bytes. `openapi/openapi.yaml`'s
/// `callbackUrl` pattern is the same grammar.
public struct CallbackURL: Sendable, Hashable {
    /// The host name or address, without brackets.
    public let host: String
    /// Whether `host` is an IPv6 address (written in brackets).
    public let isIPv6: Bool
    /// The port (80 when absent).
    public let port: UInt16
    /// The request target: the path and query, `/` when absent.
    public let path: String

    /// The longest URL accepted, in bytes.
    public static let maxLength = 2048

    /// Parses `text`; nil unless it follows the grammar above.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        let scheme = Array("http://".utf8)
        guard bytes.count <= Self.maxLength, bytes.starts(with: scheme) else { return nil }
        var index = scheme.count
        let hostStart = index
        var isIPv6 = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
            guard let close = bytes[index...].firstIndex(of: UInt8(ascii: "]")),
                  Self.isIPv6Address(bytes[(index + 1)..<close]) else { return nil }
            isIPv6 = true
            index = close + 1
        } else {
            while index < bytes.count, !Self.endsHost(bytes[index]) { index += 1 }
            guard Self.isHostName(bytes[hostStart..<index]) else { return nil }
        }
        let host = isIPv6 ? bytes[(hostStart + 1)..<(index - 1)] : bytes[hostStart..<index]
        var port: UInt16 = 80
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            let digits = bytes[(index + 1)...].prefix { (48...57).contains($0) }
            guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 5,
                  let value = UInt16(String(decoding: digits, as: UTF8.self)) else { return nil }
            port = value
            index += 1 + digits.count
        }
        let target = bytes[index...]
        guard target.isEmpty || target.first == UInt8(ascii: "/") || target.first == UInt8(ascii: "?"),
              Self.isPathAndQuery(target) else { return nil }
        self.host = String(decoding: host, as: UTF8.self)
        self.isIPv6 = isIPv6
        self.port = port
        self.path = target.isEmpty ? "/" : (target.first == UInt8(ascii: "?") ? "/" : "") + String(decoding: target, as: UTF8.self)
    }

    /// `host:port` for the `Host` header, IPv6 in brackets.
    public var hostHeader: String {
        (isIPv6 ? "[\(host)]" : host) + ":\(port)"
    }

    /// Characters that end a host name: the port, the path, the query (anything else is checked as a name).
    private static func endsHost(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ":") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?")
    }

    /// Dot-separated labels of 1–63 letters, digits and `-`, neither starting nor ending with `-`.
    static func isHostName<Bytes: Collection<UInt8>>(_ name: Bytes) -> Bool {
        guard !name.isEmpty else { return false }
        return name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last, label.count <= 63 else { return false }
            return first != UInt8(ascii: "-") && last != UInt8(ascii: "-") && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// An IPv6 address as RFC 4291 writes it (no zone), checked by `inet_pton(3)`.
    private static func isIPv6Address(_ text: ArraySlice<UInt8>) -> Bool {
        guard !text.isEmpty, text.count <= 45,
              text.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return false }
        var address = in6_addr()
        // inet_pton(3) reads the NUL-terminated string and writes 16 bytes into `address`.
        return inet_pton(AF_INET6, String(decoding: text, as: UTF8.self), &address) == 1
    }

    /// RFC 3986 `pchar`, `/` and `?`: unreserved, sub-delims, `:`, `@`, and `%` followed by two hex digits.
    private static func isPathAndQuery(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < text.endIndex, isHexDigit(text[index + 1]), isHexDigit(text[index + 2]) else { return false }
                index += 3
                continue
            }
            guard isAlphanumeric(byte) || Array("-._~!$&'()*+,;=:@/?".utf8).contains(byte) else { return false }
            index += 1
        }
        return true
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
}
