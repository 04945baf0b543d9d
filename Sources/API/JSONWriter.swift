import HTTPServer
import Inventory

/// Appends JSON to a byte buffer without Foundation: the inventory is encoded once per snapshot and
/// JSONEncoder costs ~3× more per byte on this kind of machine (docs/ARCHITECTURE.md, "The inventory").
///
/// The writer tracks commas itself: call `beginObject`, then `key`/value pairs, then `endObject`.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() { valuePrefix(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    mutating func beginArray() { valuePrefix(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes `key` and an array of one object per item, whose members `members` writes.
    mutating func objects<Items: Sequence>(_ key: StaticString, _ items: Items, _ members: (inout JSONWriter, Items.Element) -> Void) {
        self.key(key)
        beginArray()
        for item in items {
            beginObject()
            members(&self, item)
            endObject()
        }
        endArray()
    }

    /// Writes `"name":`; the next value call completes the member.
    mutating func key(_ name: StaticString) {
        valuePrefix()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        // Byte by byte: an array literal here was an allocation per key.
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
    }

    /// Writes `"name":` for a key known only at run time (escaped like any string).
    mutating func dynamicKey(_ name: String) {
        valuePrefix()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
    }

    mutating func string(_ value: String) { valuePrefix(); appendQuoted(value) }
    mutating func string(_ value: String?) { if let value { string(value) } else { null() } }
    mutating func int<T: BinaryInteger>(_ value: T) { valuePrefix(); bytes.append(contentsOf: String(value).utf8) }
    mutating func int<T: BinaryInteger>(_ value: T?) { if let value { int(value) } else { null() } }
    mutating func double(_ value: Double) { valuePrefix(); bytes.append(contentsOf: String(value).utf8) }
    mutating func bool(_ value: Bool) { valuePrefix(); literal(value ? "true" : "false") }
    mutating func null() { valuePrefix(); literal("null") }
    mutating func strings(_ values: [String]) { beginArray(); for value in values { string(value) }; endArray() }

    /// `value` as a quoted lowercase hex string zero-padded to `width` digits: what `string(Hex.pad(value, width))`
    /// writes, without the two strings in between (a device has six such ids).
    mutating func hex<T: UnsignedInteger>(_ value: T, width: Int) {
        valuePrefix()
        let value = UInt64(value)
        var digits = 1
        while digits < 16, value >> (4 * UInt64(digits)) != 0 { digits += 1 }
        bytes.append(UInt8(ascii: "\""))
        if width > digits { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
        for index in stride(from: digits - 1, through: 0, by: -1) {
            let digit = UInt8(truncatingIfNeeded: value >> (4 * UInt64(index))) & 0xf
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// ``hex(_:width:)``, or `null`.
    mutating func hex<T: UnsignedInteger>(_ value: T?, width: Int) { if let value { hex(value, width: width) } else { null() } }

    /// Splices an already encoded JSON value.
    mutating func raw(_ encoded: [UInt8]) { valuePrefix(); bytes.append(contentsOf: encoded) }

    /// Appends a literal's bytes as they are (no copy of them into an array first).
    private mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func valuePrefix() {
        let last = needsComma.count - 1
        if needsComma[last] { bytes.append(UInt8(ascii: ",")) }
        needsComma[last] = true
    }

    /// Escaping is the HTTP layer's: one set of JSON string rules in the project.
    private mutating func appendQuoted(_ value: String) {
        JSONText.appendQuoted(value, to: &bytes)
    }

    /// A JSON array of strings.
    static func stringArray(_ values: [String]) -> [UInt8] {
        var json = JSONWriter()
        json.strings(values)
        return json.bytes
    }
}
