import Foundation
import HTTPServer

/// What a JSON request body must be, beyond what the parser checks: sent as `application/json` or an
/// `application/*+json` type (no `Content-Type` at all is taken as JSON), in UTF-8 (RFC 8259; no byte
/// order mark, no UTF-16 or UTF-32, which the parser would otherwise guess), and with no member name
/// given twice in one object (which the parser would let the last one win).
enum JSONBody {
    /// 415 `unsupported_media_type` unless `Content-Type` is absent or JSON in UTF-8.
    static func checkMediaType(_ request: HTTPRequest) throws(APIError) {
        guard let type = request.header("Content-Type") else { return }
        if !isJSON(type) {
            throw APIError(415, "unsupported_media_type", "Unsupported media type",
                           "send the body as application/json (or application/*+json) in UTF-8")
        }
    }

    /// True for `application/json` and `application/<name>+json`, with at most a `charset=utf-8`
    /// parameter (names and the charset compared without regard to case).
    static func isJSON(_ type: String) -> Bool {
        // The usual value, without Foundation's trimming and lower-casing.
        if type == "application/json" { return true }
        let parts = type.split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let essence = parts[0]
        let isJSONType = essence == "application/json"
            || (essence.hasPrefix("application/") && essence.hasSuffix("+json") && essence.count > "application/+json".count)
        guard isJSONType else { return false }
        return parts.dropFirst().allSatisfy { parameter in
            let value = parameter.replacingOccurrences(of: " ", with: "")
            return value == "charset=utf-8" || value == "charset=\"utf-8\""
        }
    }

    /// 400 `malformed_body` unless the bytes are UTF-8 without a byte order mark or NUL (which UTF-16
    /// and UTF-32 text always has for ASCII characters).
    static func checkEncoding(_ body: [UInt8]) throws(APIError) {
        if body.starts(with: [0xEF, 0xBB, 0xBF]) || body.contains(0) || String(validating: body, as: UTF8.self) == nil {
            throw APIError(400, "malformed_body", "Malformed JSON", "the body is not JSON text in UTF-8")
        }
    }

    /// 400 `duplicate_member` when an object in `body` (already parsed successfully as JSON) names a
    /// member twice.
    static func checkDuplicateMembers(_ body: [UInt8]) throws(APIError) {
        var scanner = DuplicateMemberScanner(bytes: body)
        if let name = scanner.firstDuplicate() {
            throw APIError(400, "duplicate_member", "Duplicate member",
                           "the member \"\(name.prefix(64))\" appears twice in one object")
        }
    }
}

/// Walks JSON text the parser has accepted and finds the first member name repeated within one object
/// (names compared after unescaping, so `"a"` and `"\u0061"` are the same name).
struct DuplicateMemberScanner {
    let bytes: [UInt8]
    var index = 0

    /// The first repeated name, or nil.
    mutating func firstDuplicate() -> String? {
        skipSpace()
        return value(depth: 0)
    }

    private mutating func value(depth: Int) -> String? {
        guard index < bytes.count, depth < 1024 else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): _ = string(); return nil
        default:
            while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            return nil
        }
    }

    private mutating func object(depth: Int) -> String? {
        index += 1
        var names: Set<String> = []
        skipSpace()
        while index < bytes.count, bytes[index] != UInt8(ascii: "}") {
            let name = string()
            if !names.insert(name).inserted { return name }
            skipSpace()
            index += 1  // the colon
            skipSpace()
            if let found = value(depth: depth + 1) { return found }
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; skipSpace() }
        }
        index += 1
        return nil
    }

    private mutating func array(depth: Int) -> String? {
        index += 1
        skipSpace()
        while index < bytes.count, bytes[index] != UInt8(ascii: "]") {
            if let found = value(depth: depth + 1) { return found }
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; skipSpace() }
        }
        index += 1
        return nil
    }

    /// A string starting at the opening quote, unescaped; leaves `index` after the closing quote.
    private mutating func string() -> String {
        index += 1
        var units: [UInt16] = []
        var raw: [UInt8] = []
        func flush() {
            units.append(contentsOf: String(decoding: raw, as: UTF8.self).utf16)
            raw.removeAll()
        }
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                raw.append(bytes[index])
                index += 1
                continue
            }
            flush()
            let escaped = bytes[index + 1]
            index += 2
            if escaped == UInt8(ascii: "u"), index + 4 <= bytes.count,
               let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) {
                units.append(unit)
                index += 4
            } else {
                let map: [UInt8: UInt16] = [0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13, 0x74: 9]
                units.append(map[escaped] ?? UInt16(escaped))
            }
        }
        flush()
        index += 1
        return String(decoding: units, as: UTF16.self)
    }

    private mutating func skipSpace() {
        while index < bytes.count, " \t\r\n".utf8.contains(bytes[index]) { index += 1 }
    }
}
