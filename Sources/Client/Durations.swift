/// Durations as the command line reads and prints them.
enum Durations {
    /// Seconds of `text`: a whole number with `s`, `m`, `h` or `d` (`90m`, `2h`), or plain seconds.
    static func seconds(_ text: String, option: String) throws(ClientError) -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text)
        var factor = 1
        if let unit = text.last, let value = units[unit] {
            digits = text.dropLast()
            factor = value
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value >= 1,
              case let (seconds, false) = value.multipliedReportingOverflow(by: factor) else {
            throw .usage("\(option): expected a whole number and s, m, h or d (such as 90m or 2h), got \"\(text.prefix(32))\"")
        }
        return seconds
    }

    /// Milliseconds as people read them: `850 µs`, `12.3 ms`, `1.42 s`; `-` for nil.
    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 1 { return "\(Int((value * 1000).rounded())) µs" }
        if value < 1000 { return String(format1: value, unit: "ms") }
        return String(format1: value / 1000, unit: "s")
    }

    /// Seconds as `4.2 s`, `3m 05s`.
    static func elapsed(_ seconds: Double) -> String {
        if seconds < 60 { return String(format1: seconds, unit: "s") }
        let whole = Int(seconds)
        let remainder = whole % 60
        return "\(whole / 60)m " + (remainder < 10 ? "0" : "") + "\(remainder)s"
    }
}

extension String {
    /// `value` with one decimal (two below 10) and `unit`.
    init(format1 value: Double, unit: String) {
        let places = value < 10 ? 100.0 : 10.0
        let rounded = (value * places).rounded() / places
        self = "\(rounded) \(unit)"
    }
}
