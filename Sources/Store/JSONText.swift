import Foundation
import JSONString

/// The few pieces of JSON the audit history writes by hand: strings (``JSONString``, escaped exactly as
/// Python's `json.dumps(..., ensure_ascii=False)` escapes them), and flat string-to-string objects with
/// sorted keys.
enum JSONText {
    /// Appends `text` as a JSON string, quotes included, to `output`.
    static func appendString(_ text: String, to output: inout [UInt8]) {
        JSONString.append(text, to: &output)
    }

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
