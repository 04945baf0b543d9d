/// The request target (`/path?query`) split, checked and decoded.
///
/// Rules: the path starts with `/`, has no empty segment (`//`), no `.` or `..` segment (raw or
/// percent-encoded), no NUL or control byte, only valid percent-encoding, and decodes to UTF-8. The query
/// is `name=value` pairs joined by `&`, `+` meaning space, valid percent-encoding and UTF-8, no NUL.
public struct RequestTarget: Sendable {
    /// The raw path (not decoded).
    public var path: String
    /// The decoded query parameters in order.
    public var query: [(name: String, value: String)]
    /// The percent-decoded segments of `path` (see `pathSegments`).
    public var segments: [String]

    /// Why a target was refused.
    public enum Failure: Error, Sendable, Equatable {
        /// The path broke one of the rules.
        case malformedPath
        /// The query broke one of the rules.
        case malformedQuery
    }

    /// Splits and checks a raw request target.
    public static func parse(_ raw: some Collection<UInt8>) -> Result<RequestTarget, Failure> {
        let bytes = Array(raw)
        let question = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        let rawPath = bytes[..<question]
        guard let segments = pathSegments(rawPath) else { return .failure(.malformedPath) }
        var query: [(name: String, value: String)] = []
        if question < bytes.endIndex {
            guard let parsed = parseQuery(bytes[(question + 1)...]) else { return .failure(.malformedQuery) }
            query = parsed
        }
        return .success(RequestTarget(path: String(decoding: rawPath, as: UTF8.self), query: query, segments: segments))
    }

    /// The percent-decoded segments of a raw path (`/` gives none), or nil when the path is malformed.
    /// One trailing slash gives a last, empty segment (`/ui/` is `["ui", ""]`, a folder's index).
    public static func pathSegments(_ rawPath: some Collection<UInt8>) -> [String]? {
        guard rawPath.first == UInt8(ascii: "/") else { return nil }
        let rest = rawPath.dropFirst()
        if rest.isEmpty { return [] }
        var pieces = rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let folder = pieces.count > 1 && pieces[pieces.count - 1].isEmpty
        if folder { pieces.removeLast() }
        var segments: [String] = []
        for raw in pieces {
            guard !raw.isEmpty, raw.allSatisfy({ $0 > 0x20 && $0 != 0x7F }),
                  let text = decodeSegment(raw), text != ".", text != ".."
            else { return nil }
            segments.append(text)
        }
        if folder { segments.append("") }
        return segments
    }

    /// One raw segment decoded, or nil (bad percent-encoding, NUL, not UTF-8). Without a `%` the bytes
    /// are the text and are validated where they are.
    private static func decodeSegment(_ raw: some Collection<UInt8>) -> String? {
        guard raw.contains(UInt8(ascii: "%")) else { return String(validating: raw, as: UTF8.self) }
        guard let decoded = percentDecode(raw, plusIsSpace: false), !decoded.contains(0) else { return nil }
        return String(validating: decoded, as: UTF8.self)
    }

    /// Decoded `name=value` pairs, or nil when the query is malformed. Empty pieces (`a=1&&b=2`) are
    /// skipped; a piece without `=` has an empty value.
    static func parseQuery(_ raw: some Collection<UInt8>) -> [(name: String, value: String)]? {
        var items: [(name: String, value: String)] = []
        for piece in raw.split(separator: UInt8(ascii: "&")) {
            let equals = piece.firstIndex(of: UInt8(ascii: "=")) ?? piece.endIndex
            let rawValue = equals < piece.endIndex ? piece[piece.index(after: equals)...] : piece[equals...]
            guard let name = decodeQueryComponent(piece[..<equals]),
                  let value = decodeQueryComponent(rawValue)
            else { return nil }
            items.append((name: name, value: value))
        }
        return items
    }

    private static func decodeQueryComponent(_ raw: some Collection<UInt8>) -> String? {
        guard raw.allSatisfy({ $0 > 0x20 && $0 != 0x7F }),
              let decoded = percentDecode(raw, plusIsSpace: true), !decoded.contains(0)
        else { return nil }
        return String(validating: decoded, as: UTF8.self)
    }

    /// Percent-decodes bytes; nil when a `%` is not followed by two hex digits.
    static func percentDecode(_ raw: some Collection<UInt8>, plusIsSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                out.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                out.append(UInt8(ascii: " "))
            default:
                out.append(byte)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
