import Foundation

/// A JSON number read as a whole number, however large: JSON has no integer range, so a client may send
/// `ttlSeconds: 18446744073709551616` and mean "as long as you allow". Numbers `JSONSerialization` cannot
/// hold at all (beyond about 1.8e308) never get here: the body is `malformed_body`.
enum WholeNumber: Equatable {
    /// A whole number that fits in `Int`.
    case exact(Int)
    /// A whole number above `Int.max`.
    case aboveRange
    /// A whole number below `Int.min`.
    case belowRange

    /// `value` as a whole number; `nil` when it is not a JSON number, is a boolean, or has a fraction.
    init?(_ value: Any) {
        guard let number = value as? NSNumber, !JSONObject.isBool(number) else { return nil }
        // Integers beyond 64 bits and long fractions come as decimals (38 significant digits).
        if let decimal = number as? NSDecimalNumber {
            var whole = Decimal()
            var copy = decimal.decimalValue
            NSDecimalRound(&whole, &copy, 0, .plain)
            guard whole == decimal.decimalValue, !decimal.decimalValue.isNaN else { return nil }
            if whole > Decimal(Int.max) { self = .aboveRange } else if whole < Decimal(Int.min) { self = .belowRange }
            else { self = .exact(NSDecimalNumber(decimal: whole).intValue) }
            return
        }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "Q"):
            let value = number.uint64Value
            self = value > UInt64(Int.max) ? .aboveRange : .exact(Int(value))
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            let value = number.doubleValue
            guard value.isFinite, value == value.rounded(.towardZero) else { return nil }
            // 2^63 is the first Double above Int.max; -2^63 is Int.min itself.
            if value >= 9_223_372_036_854_775_808.0 { self = .aboveRange } else if value < -9_223_372_036_854_775_808.0 {
                self = .belowRange
            } else { self = .exact(Int(value)) }
        default:
            self = .exact(number.intValue)
        }
    }

    /// A positive count of seconds that the service lowers to its maximum: any whole number ≥ 1, those
    /// above `Int.max` as `Int.max`; `nil` for anything else.
    static func positiveSeconds(_ value: Any) -> Int? {
        switch WholeNumber(value) {
        case .exact(let seconds) where seconds >= 1: seconds
        case .aboveRange: Int.max
        default: nil
        }
    }
}
