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

    /// The action a row's stored action counts as (its current spelling, ``AuditActions``), as SQL: the
    /// expression of the index `audit_current_action` (migration 0007), which the filter must repeat
    /// exactly for SQLite to use it.
    static let currentActionSQL = "(CASE action "
        + AuditActions.renamed.sorted { $0.key < $1.key }.map { "WHEN '\($0.key)' THEN '\($0.value)' " }.joined()
        + "ELSE action END)"

    /// The `SELECT` for this query and its bindings; `afterSeq` and `limit` may be overridden (export
    /// pages through the rows with its own keyset). `seqRange` is where `since`/`until` put the rows
    /// (`AuditTimeRange`): the rows outside it are outside the times, so each filter's index is walked
    /// only over that range; the times are still compared row by row, which makes the answer exact.
    func selectStatement(afterSeq: Int64?, limit: Int?, seqRange: Range<Int64>?) -> (sql: String, bindings: [SQLValue]) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        func add(_ condition: String, _ value: SQLValue?) {
            guard let value else { return }
            conditions.append(condition)
            bindings.append(value)
        }
        // One index drives the walk, the narrowest filter's (SQLite has no statistics to choose by): the
        // others are written with a unary + so they are compared row by row, never picked instead.
        let driver = [assignment != nil, device != nil, holder != nil, group != nil, tenant != nil].firstIndex(of: true) ?? 5
        func column(_ name: String, _ rank: Int) -> String { (rank == driver ? "" : "+") + name + " = ?" }
        add(column("assignment_id", 0), assignment.map(SQLValue.text))
        add(column("device", 1), device.map(SQLValue.text))
        add(column("holder", 2), holder.map(SQLValue.text))
        add(column("group_id", 3), group.map { .integer(Int64($0)) })
        add(column("tenant", 4), tenant.map(SQLValue.text))
        add(column(Self.currentActionSQL, 5), action.map { .text(AuditActions.spellings(of: $0)[0]) })
        add("time >= ?", since.map { .text(Timestamp.format($0)) })
        add("time < ?", until.map { .text(Timestamp.format($0)) })
        let lower = max(afterSeq.map { $0 + 1 } ?? Int64.min, seqRange?.lowerBound ?? Int64.min)
        if lower > Int64.min { add("seq >= ?", .integer(lower)) }
        add("seq < ?", seqRange.map { .integer($0.upperBound) })
        var sql = "SELECT \(StoredAuditRow.selectList) FROM audit"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY seq"
        if let limit {
            sql += " LIMIT ?"
            bindings.append(.integer(Int64(limit)))
        }
        return (sql, bindings)
    }

    /// The rows of one page (or export batch) on `connection`: the seq range of the times first, then
    /// the select.
    func records(afterSeq: Int64?, limit: Int?, on connection: Connection) throws -> [AuditRecord] {
        let range = try AuditTimeRange.seqRange(since: since, until: until, on: connection)
        if let range, range.isEmpty { return [] }
        let (sql, bindings) = selectStatement(afterSeq: afterSeq, limit: limit, seqRange: range)
        return try connection.query(sql, bindings: bindings) { try StoredAuditRow($0).record() }
    }
}
