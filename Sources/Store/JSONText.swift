import Foundation

/// The few pieces of JSON the audit history writes by hand: strings escaped exactly as Python's
/// `json.dumps(..., ensure_ascii=False)` escapes them, and flat string-to-string objects with sorted keys.
///
/// Escaping: `"` → `\"`, `\` → `\\`, U+0008 → `\b`, U+000C → `\f`, U+000A → `\n`, U+000D → `\r`,
/// U+0009 → `\t`, every other code point below U+0020 → `\u00xx` (lowercase hex); everything else,
/// U+007F and non-ASCII included, is written as its UTF-8 bytes.
enum JSONText {
    /// Appends `text` as a JSON string, quotes included, to `output`.
    static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                // Bytes of multi-byte UTF-8 sequences are all ≥ 0x80, so they are copied untouched.
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `object` as compact JSON with its keys sorted by their UTF-8 bytes (code point order), e.g.
    /// `{"driver":"nvidia","state":"bound"}`: the form `before`/`after` are stored in.
    static func encodeObject(_ object: [String: String]) -> String {
        var output: [UInt8] = [UInt8(ascii: "{")]
        let keys = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(key, to: &output)
            output.append(UInt8(ascii: ":"))
            appendString(object[key] ?? "", to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// Parses a JSON object whose values are all strings; nil for anything else.
    static func decodeObject(_ text: String) -> [String: String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
        return object as? [String: String]
    }
}
