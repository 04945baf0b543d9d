/// Why `AuditLog` refused an entry or a query, or could not read a stored row.
public enum AuditLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `append(_:in:)` was called outside a transaction: the head read and the insert would not be one.
    case notInTransaction
    /// The entry lacks something every row needs (an actor, an action).
    case invalidEntry(String)
    /// The query cannot be run (a limit below 1).
    case invalidQuery(String)
    /// A stored row does not fit the types (a time that is not RFC 3339, `before` that is not a JSON
    /// object of strings): the file was changed outside vfiod.
    case invalidRow(seq: Int64, reason: String)

    /// One line for logs.
    public var description: String {
        switch self {
        case .notInTransaction:
            "audit entries are appended inside a transaction (database.write { … })"
        case let .invalidEntry(reason): "invalid audit entry: \(reason)"
        case let .invalidQuery(reason): "invalid audit query: \(reason)"
        case let .invalidRow(seq, reason): "audit row \(seq) is invalid: \(reason)"
        }
    }
}
