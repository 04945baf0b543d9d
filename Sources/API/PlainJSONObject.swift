import Foundation

/// The usual small request body read byte by byte, without Foundation's parser: a JSON object whose
/// values are plain strings (printable ASCII, no escapes), whole numbers of at most 18 digits without a
/// sign, `true`, `false` and such objects. Anything else (escapes, other bytes, fractions, exponents,
/// signs, `null`, arrays, a name given twice, any syntax error) gives nil, and the caller reads the body
/// the general way, which gives the same object for what this accepts and the problems for the rest.
///
/// The values are what `JSONSerialization` gives: `String`, `NSNumber` (booleans as `NSNumber(value:)`
/// of a `Bool`, whose Objective-C type is `c`) and `[String: Any]`.
struct PlainJSONObject {
    private let bytes: [UInt8]
    private var index = 0

    /// The object in `body`, or nil when `body` is not in the plain form.
    static func parse(_ body: [UInt8]) -> [String: Any]? {
        var reader = PlainJSONObject(bytes: body)
        reader.skipSpace()
        guard let object = reader.object(depth: 0) else { return nil }
        reader.skipSpace()
        return reader.index == body.count ? object : nil
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// `{ "name": value, ... }` starting at the opening brace; nil on anything outside the plain form.
    private mutating func object(depth: Int) -> [String: Any]? {
        guard depth < 4, current == UInt8(ascii: "{") else { return nil }
        index += 1
        var object: [String: Any] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") {
            index += 1
            return object
        }
        while true {
            skipSpace()
            guard let name = string() else { return nil }
            skipSpace()
            guard current == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            guard let value = value(depth: depth), object.updateValue(value, forKey: name) == nil else { return nil }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return object
            default: return nil
            }
        }
    }

    private mutating func value(depth: Int) -> Any? {
        switch current {
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "t"): return literal("true") ? NSNumber(value: true) : nil
        case UInt8(ascii: "f"): return literal("false") ? NSNumber(value: false) : nil
        case .some(let byte) where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"): return number()
        default: return nil
        }
    }

    /// A string of printable ASCII other than `"` and `\`, starting at the opening quote.
    private mutating func string() -> String? {
        guard current == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] >= 0x20, bytes[end] < 0x7F, bytes[end] != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `0` or a whole number of 1 to 18 digits without a leading zero, not followed by a fraction or an exponent.
    private mutating func number() -> NSNumber? {
        let start = index
        var value = 0
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            // Counted before the digit is added: 18 digits stay below Int.max.
            guard index - start < 18 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        if bytes[start] == UInt8(ascii: "0"), index - start > 1 { return nil }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            return nil
        }
        return NSNumber(value: value)
    }

    private mutating func literal(_ text: String) -> Bool {
        let count = text.utf8.count
        guard index + count <= bytes.count, bytes[index..<(index + count)].elementsEqual(text.utf8) else { return false }
        index += count
        return true
    }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }
}
