import Foundation

/// Which audit rows to list or export: every filter given must match (AND); nil filters match all.
/// Rows come in seq order; page with `afterSeq` set to the last seq of the previous page.
public struct AuditQuery: Sendable, Hashable {
    /// Rows about this PCI address.
    public var device: String?
    /// Rows about this IOMMU group.
    public var group: Int?
    /// Rows about this assignment.
    public var assignment: String?
    /// Rows naming this holder.
    public var holder: String?
    /// Rows of this tenant.
    public var tenant: String?
    /// Rows with this action (or an older spelling of it: ``AuditActions``).
    public var action: String?
    /// Rows at or after this time (compared at millisecond precision).
    public var since: Date?
    /// Rows strictly before this time (compared at millisecond precision).
    public var until: Date?
    /// Rows with a seq greater than this: the keyset of the previous page.
    public var afterSeq: Int64?
    /// At most this many rows (must be ≥ 1); nil for all.
    public var limit: Int?

    /// Makes a query; with no arguments it matches every row.
    public init(device: String? = nil, group: Int? = nil, assignment: String? = nil, holder: String? = nil,
                tenant: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil,
                afterSeq: Int64? = nil, limit: Int? = nil) {
        self.device = device
        self.group = group
        self.assignment = assignment
        self.holder = holder
        self.tenant = tenant
        self.action = action
        self.since = since
        self.until = until
        self.afterSeq = afterSeq
        self.limit = limit
    }

    /// The `SELECT` for this query and its bindings; `afterSeq` and `limit` may be overridden (export
    /// pages through the rows with its own keyset).
    func selectStatement(afterSeq: Int64?, limit: Int?) -> (sql: String, bindings: [SQLValue]) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        func add(_ condition: String, _ value: SQLValue?) {
            guard let value else { return }
            conditions.append(condition)
            bindings.append(value)
        }
        add("device = ?", device.map(SQLValue.text))
        add("group_id = ?", group.map { .integer(Int64($0)) })
        add("assignment_id = ?", assignment.map(SQLValue.text))
        add("holder = ?", holder.map(SQLValue.text))
        add("tenant = ?", tenant.map(SQLValue.text))
        if let action {
            let spellings = AuditActions.spellings(of: action)
            conditions.append("action IN (" + Array(repeating: "?", count: spellings.count).joined(separator: ", ") + ")")
            bindings += spellings.map(SQLValue.text)
        }
        add("time >= ?", since.map { .text(Timestamp.format($0)) })
        add("time < ?", until.map { .text(Timestamp.format($0)) })
        add("seq > ?", afterSeq.map(SQLValue.integer))
        var sql = "SELECT \(StoredAuditRow.selectList) FROM audit"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY seq"
        if let limit {
            sql += " LIMIT ?"
            bindings.append(.integer(Int64(limit)))
        }
        return (sql, bindings)
    }
}
