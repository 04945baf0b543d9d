import Foundation

/// Time-ordered identifiers: a prefix, 12 hex digits of milliseconds since 1970, 12 random hex digits.
/// Sorting ids sorts by creation time, which makes them good keyset cursors.
enum Identifier {
    static func make(_ prefix: String, at date: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() & 0xffff_ffff_ffff
        return prefix + "_" + hex(milliseconds, 12) + hex(random, 12)
    }

    private static func hex(_ value: UInt64, _ width: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Whether `text` could be an id with `prefix` (checked before it reaches SQL or a log line).
    static func isWellFormed(_ text: String, prefix: String) -> Bool {
        let body = text.utf8.dropFirst(prefix.utf8.count + 1)
        return text.hasPrefix(prefix + "_") && body.count == 24
            && body.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
