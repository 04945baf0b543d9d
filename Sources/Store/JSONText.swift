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
    /// (Every audit row's `before` and `after` goes through here, on the writer: the pairs are sorted as
    /// they are, with no second lookup of each key, into a buffer sized once for the usual, escape-free case.)
    static func encodeObject(_ object: [String: String]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(object.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        output.append(UInt8(ascii: "{"))
        let pairs = object.count < 2 ? Array(object) : object.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(pair.key, to: &output)
            output.append(UInt8(ascii: ":"))
            appendString(pair.value, to: &output)
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
