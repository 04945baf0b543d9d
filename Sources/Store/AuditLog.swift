import Foundation

/// The audit history (table `audit`, migrations 0002 and 0007): append-only, hash-chained rows of who
/// held what; old rows leave only into the archive (`AuditArchive`).
///
/// A state change and its audit row commit together: append inside the transaction that makes the
/// change,
///
///     try database.write { connection in
///         try connection.run("UPDATE …")
///         try AuditLog.append(AuditEntry(actor: "ops", action: "assignment.created", …), in: connection)
///     }
///
/// and a rolled-back transaction leaves neither. Rows are numbered 1, 2, 3, …; each row's hash covers the
/// previous row's hash and the row's canonical form (`StoredAuditRow`), so `verify(_:)` finds a row
/// edited or deleted behind vfiod's back. A row's time is never earlier than the previous row's.
/// Every call blocks the calling thread (see `Database`).
public enum AuditLog {
    /// Inserts a row: the hashed columns, then `hash`.
    private static let insertStatement = "INSERT INTO audit (\(StoredAuditRow.selectList)) VALUES ("
        + Array(repeating: "?", count: StoredAuditRow.columns.count + 1).joined(separator: ", ") + ")"

    /// Appends `entry` after the current head inside the caller's write transaction (`Database.write`:
    /// the head is read and the row inserted under the write lock, so concurrent writers cannot fork the
    /// chain). Throws `AuditLogError.notInTransaction` outside a transaction.
    @discardableResult
    public static func append(_ entry: AuditEntry, in connection: Connection) throws -> AuditRecord {
        guard connection.isInTransaction else { throw AuditLogError.notInTransaction }
        guard !entry.actor.isEmpty else { throw AuditLogError.invalidEntry("the actor is empty") }
        guard !entry.action.isEmpty else { throw AuditLogError.invalidEntry("the action is empty") }
        var seq: Int64 = 1
        var prevHash = StoredAuditRow.genesisHash
        var notBefore: String?
        if connection.keepsAuditHead, let head = connection.auditHead {
            (seq, prevHash, notBefore) = (head.seq + 1, head.hash, head.time)
        } else {
            let head = try connection.cachedStatement("SELECT seq, hash, time FROM audit ORDER BY seq DESC LIMIT 1")
            try head.forEachRow { row in
                seq = row.int64(0) + 1
                prevHash = row.string(1)
                notBefore = row.string(2)
            }
        }
        // Times follow seq (AuditTimeRange): an entry stamped before the head's time (its writer waited
        // for the lock behind a later one, or the clock stepped back) takes the head's time.
        let row = StoredAuditRow(seq: seq, entry: entry, prevHash: prevHash, notBefore: notBefore)
        let insert = try connection.cachedStatement(insertStatement)
        for (index, value) in row.values.enumerated() { try insert.bind(value, at: index + 1) }
        try insert.bind(.text(row.hash), at: row.values.count + 1)
        try insert.run()
        var stored = entry
        if case .text(let time) = row.values[1] {
            if let date = Timestamp.parse(time) { stored.time = date }
            if connection.keepsAuditHead { connection.auditHead = AuditHead(seq: seq, hash: row.hash, time: time) }
        }
        let record = AuditRecord(seq: seq, entry: stored, prevHash: prevHash, hash: row.hash)
        connection.appendedAudit?.append(record)
        return record
    }

    /// Appends `entry` in a transaction of its own, for events that change nothing else.
    @discardableResult
    public static func append(_ entry: AuditEntry, to database: Database) throws -> AuditRecord {
        try database.write { try append(entry, in: $0) }
    }

    /// The rows matching `query`, in seq order (a keyset page when `afterSeq`/`limit` are set).
    public static func list(_ query: AuditQuery, in database: Database) throws -> [AuditRecord] {
        if let limit = query.limit, limit < 1 { throw AuditLogError.invalidQuery("limit \(limit) is below 1") }
        return try database.read { connection in
            try query.records(afterSeq: query.afterSeq, limit: query.limit, on: connection)
        }
    }

    /// The newest row's seq and hash: `(0, 64 zeros)` for an empty history. Publish or store the head
    /// elsewhere to detect a history cut short (deleting the newest rows leaves a valid shorter chain).
    public static func head(in database: Database) throws -> (seq: Int64, hash: String) {
        try database.read { connection in
            let rows = try connection.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") {
                ($0.int64(0), $0.string(1))
            }
            return rows.first ?? (0, StoredAuditRow.genesisHash)
        }
    }
}

/// The newest audit row's seq, hash and stored time: what the next row chains to.
struct AuditHead {
    let seq: Int64
    let hash: String
    let time: String
}

extension StoredAuditRow {
    /// The row as the public type; throws `AuditLogError.invalidRow` when a column does not fit it.
    func record() throws -> AuditRecord {
        func text(_ index: Int) -> String? {
            switch values[index] {
            case .text(let text): text
            case .integer(let number): String(number)
            case .real(let number): String(number)
            case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
            case .null: nil
            }
        }
        func object(_ index: Int) throws -> [String: String]? {
            guard let json = text(index) else { return nil }
            guard let object = JSONText.decodeObject(json) else {
                throw AuditLogError.invalidRow(seq: seq, reason: "\(Self.columns[index]) is not a JSON object of strings")
            }
            return object
        }
        guard let timeText = text(1), let time = Timestamp.parse(timeText) else {
            throw AuditLogError.invalidRow(seq: seq, reason: "time \(text(1) ?? "NULL") is not RFC 3339 UTC with milliseconds")
        }
        var group: Int?
        switch values[6] {
        case .null: group = nil
        case .integer(let number) where Int(exactly: number) != nil: group = Int(number)
        default: throw AuditLogError.invalidRow(seq: seq, reason: "group_id is not an integer")
        }
        let entry = AuditEntry(time: time, actor: text(2) ?? "", requestID: text(3), action: text(4) ?? "",
                               device: text(5), group: group, assignment: text(7), holder: text(8),
                               tenant: text(9), before: try object(10), after: try object(11), detail: text(12),
                               error: text(13))
        return AuditRecord(seq: seq, entry: entry, prevHash: prevHash, hash: hash)
    }
}
