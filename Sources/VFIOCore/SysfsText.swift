/// Parsers for the text forms sysfs attributes use, working on raw bytes.
public enum SysfsText {
    /// Parses `0x10de\n`, `10de`, `0x030000`: hex digits with an optional `0x`, surrounding whitespace ignored.
    public static func hex(_ bytes: [UInt8]) -> UInt64? {
        var index = 0
        var end = bytes.count
        while index < end, isSpace(bytes[index]) { index += 1 }
        while end > index, isSpace(bytes[end - 1]) || bytes[end - 1] == 0 { end -= 1 }
        if end - index >= 2, bytes[index] == UInt8(ascii: "0"), bytes[index + 1] | 0x20 == UInt8(ascii: "x") {
            index += 2
        }
        guard index < end, end - index <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes[index..<end] {
            guard let digit = hexDigit(byte) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// Parses a decimal integer with an optional sign (`-1\n`, `8`).
    public static func decimal(_ bytes: [UInt8]) -> Int? {
        var index = 0
        var end = bytes.count
        while index < end, isSpace(bytes[index]) { index += 1 }
        while end > index, isSpace(bytes[end - 1]) || bytes[end - 1] == 0 { end -= 1 }
        var negative = false
        if index < end, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
        guard index < end, end - index <= 18 else { return nil }
        var value = 0
        for byte in bytes[index..<end] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// The text without trailing newlines, spaces and NULs.
    public static func trimmed(_ bytes: [UInt8]) -> String {
        var end = bytes.count
        while end > 0, isSpace(bytes[end - 1]) || bytes[end - 1] == 0 { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// The value of one hex digit, either case.
    @inline(__always)
    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0a || byte == 0x09 || byte == 0x0d }
}
