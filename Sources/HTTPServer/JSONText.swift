internal import JSONString
/// A hand-written JSON writer for small documents on the hot path (problem bodies, access log lines):
/// appends to a byte buffer, escapes strings per RFC 8259, never goes through Foundation.
public struct JSONText: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]
    private var needsComma = false

    /// Starts an empty document; `capacity` is a hint.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `"name":` inside an object.
    public mutating func key(_ name: String) {
        separate()
        JSONText.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a member whose value is a string.
    public mutating func member(_ name: String, _ value: String) {
        key(name)
        JSONText.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    /// Writes a member whose value is an integer.
    public mutating func member(_ name: String, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// Writes a member whose value is already-encoded JSON (trusted, written verbatim).
    public mutating func member(_ name: String, rawJSON: [UInt8]) {
        key(name)
        bytes.append(contentsOf: rawJSON)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `value` as a quoted, escaped JSON string: `"`, `\` and control characters are escaped,
    /// everything else (including non-ASCII UTF-8) is copied as is.

    /// Appends `value` as a JSON string, quotes included (``JSONString``'s escaping).
    public static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        JSONString.append(value, to: &out)
    }
}
