/// A value bound to a statement parameter or read from a column: SQLite's five storage classes.
public enum SQLValue: Sendable, Hashable {
    /// A 64-bit signed integer (`INTEGER`).
    case integer(Int64)
    /// A double (`REAL`).
    case real(Double)
    /// UTF-8 text (`TEXT`).
    case text(String)
    /// Bytes (`BLOB`); an empty array is an empty blob, not NULL.
    case blob([UInt8])
    /// `NULL`.
    case null
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral
{
    /// `42` binds as `.integer(42)`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// `1.5` binds as `.real(1.5)`.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// `"x"` binds as `.text("x")`.
    public init(stringLiteral value: String) { self = .text(value) }
    /// `nil` binds as `.null`.
    public init(nilLiteral: ()) { self = .null }
}

extension SQLValue {
    /// `.integer` for a value, `.null` for nil: for optional integer columns.
    public init<I: BinaryInteger>(_ value: I?) {
        self = value.map { .integer(Int64($0)) } ?? .null
    }

    /// `.real` for a value, `.null` for nil.
    public init(_ value: Double?) {
        self = value.map { .real($0) } ?? .null
    }

    /// `.text` for a value, `.null` for nil.
    public init(_ value: String?) {
        self = value.map { .text($0) } ?? .null
    }

    /// `.blob` for a value, `.null` for nil.
    public init(_ value: [UInt8]?) {
        self = value.map { .blob($0) } ?? .null
    }
}
