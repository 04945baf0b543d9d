import Foundation

/// RFC 3339 `date-time` as clients write it (`since`, `until` of the audit routes):
/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction of any length, then `Z` or a numeric offset `±HH:MM`
/// (`T` and `Z` in either case, as RFC 3339 allows; a leap second `:60` counts as the next minute's start).
extension Timestamp {
    /// The time `text` names, in whole milliseconds since 1970 rounded up (a finer fraction becomes the next
    /// millisecond, so "at or after" and "before" stay exact against vfiod's millisecond times); `nil`
    /// when `text` is not an RFC 3339 date-time.
    public static func rfc3339Milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 64, bytes[4] == ascii("-"), bytes[7] == ascii("-"),
              bytes[10] | 0x20 == ascii("t"), bytes[13] == ascii(":"), bytes[16] == ascii(":"),
              let year = decimal(bytes[0..<4]), let month = decimal(bytes[5..<7]), let day = decimal(bytes[8..<10]),
              let hour = decimal(bytes[11..<13]), let minute = decimal(bytes[14..<16]), let second = decimal(bytes[17..<19]),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var index = 19
        var millisecond: Int64 = 0
        if bytes[index] == ascii(".") {
            let digits = bytes[(index + 1)...].prefix { isDigit($0) }
            guard !digits.isEmpty else { return nil }
            let first = Array(digits.prefix(3)) + Array(repeating: ascii("0"), count: max(0, 3 - digits.count))
            millisecond = decimal(first[0..<3]) ?? 0
            if digits.dropFirst(3).contains(where: { $0 != ascii("0") }) { millisecond += 1 }
            index += 1 + digits.count
        }
        guard let offset = offsetMinutes(bytes[index...]) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let minutes = (days * 24 + hour) * 60 + minute - offset
        return minutes * 60_000 + second * 1000 + millisecond
    }

    /// The same, as a date.
    public static func parseRFC3339(_ text: String) -> Date? {
        rfc3339Milliseconds(text).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// `Z` → 0, `+HH:MM` / `-HH:MM` → minutes east of UTC; `nil` for anything else.
    private static func offsetMinutes(_ rest: ArraySlice<UInt8>) -> Int64? {
        guard let sign = rest.first else { return nil }
        if sign | 0x20 == ascii("z") { return rest.count == 1 ? 0 : nil }
        let start = rest.startIndex
        guard sign == ascii("+") || sign == ascii("-"), rest.count == 6, rest[start + 3] == ascii(":"),
              let hours = decimal(rest[(start + 1)..<(start + 3)]), let minutes = decimal(rest[(start + 4)..<(start + 6)]),
              hours < 24, minutes < 60 else { return nil }
        return (sign == ascii("-") ? -1 : 1) * (hours * 60 + minutes)
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for digit in digits {
            guard isDigit(digit) else { return nil }
            value = value * 10 + Int64(digit - ascii("0"))
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (ascii("0")...ascii("9")).contains(byte) }

    private static func ascii(_ character: Unicode.Scalar) -> UInt8 { UInt8(ascii: character) }
}
