/// What `AuditLog.verify(_:)` found: the whole chain valid, or where it first breaks.
public struct AuditVerification: Sendable, Hashable {
    /// Rows that verified, from the checkpoint (seq 1 when nothing is archived) up to the break (all
    /// rows in the database when `ok`).
    public let count: Int
    /// The last archived seq the rows in the database chain on from (`AuditArchive`); 0 when none is.
    public let checkpointSeq: Int64
    /// That row's hash (64 zeros when nothing is archived): the first row left must chain on from it.
    public let checkpointHash: String
    /// The hash of the last row that verified: the head when `ok` (64 zeros for an empty history).
    /// Compare it with a head recorded elsewhere to detect rows removed from the end.
    public let headHash: String
    /// The seq where the chain first breaks (for a gap: the first missing seq); nil when `ok`.
    public let firstBrokenSeq: Int64?
    /// How it breaks there; nil when `ok`.
    public let reason: AuditChainBreak?

    /// Whether every row verified.
    public var ok: Bool { reason == nil }

    /// Makes a result.
    public init(count: Int, headHash: String, firstBrokenSeq: Int64? = nil, reason: AuditChainBreak? = nil,
                checkpointSeq: Int64 = 0, checkpointHash: String = String(repeating: "0", count: 64)) {
        self.count = count
        self.checkpointSeq = checkpointSeq
        self.checkpointHash = checkpointHash
        self.headHash = headHash
        self.firstBrokenSeq = firstBrokenSeq
        self.reason = reason
    }
}

/// How the audit chain breaks at a row.
public enum AuditChainBreak: Sendable, Hashable, CustomStringConvertible {
    /// The row's stored hash is not the hash of its contents: the row was edited.
    case hashMismatch(stored: String, computed: String)
    /// The row's prev_hash is not the previous row's hash: a row before it was removed or replaced.
    case prevHashMismatch(stored: String, expected: String)
    /// Seqs jump from `expected` (missing) to `found`: rows were deleted.
    case seqGap(expected: Int64, found: Int64)
    /// A column holds a REAL or BLOB, which no row written by vfiod holds.
    case nonCanonicalValue(column: String, storageClass: String)
    /// An archive segment is missing, unreadable, not the file recorded, or holds other rows than recorded.
    case segmentDamaged(segment: String, problem: String)

    /// One line for logs and the API.
    public var description: String {
        switch self {
        case let .hashMismatch(stored, computed):
            "hash mismatch: stored \(stored), contents hash to \(computed) (row edited)"
        case let .prevHashMismatch(stored, expected):
            "prev_hash mismatch: stored \(stored), previous row's hash is \(expected) (row deleted or replaced)"
        case let .seqGap(expected, found):
            if found == expected + 1 {
                "seq gap: row \(expected) is missing (row deleted)"
            } else if found > expected {
                "seq gap: rows \(expected)…\(found - 1) are missing (rows deleted)"
            } else {
                "seq \(found) where \(expected) was expected (row renumbered)"
            }
        case let .nonCanonicalValue(column, storageClass):
            "\(column) holds a \(storageClass), which no audit row may hold (row edited)"
        case let .segmentDamaged(segment, problem):
            "archive segment \(segment): \(problem)"
        }
    }
}

extension AuditLog {
    /// Re-computes the chain in the database in one pass over one statement, in seq order: seqs must run
    /// on from the checkpoint (1, 2, 3, … when nothing is archived) with no gap, each prev_hash must be the
    /// previous row's hash (the checkpoint's, or 64 zeros, for the first), and each hash must be the hash
    /// of its row. Stops at the first break. The archived rows are verified by `AuditArchive.verify`.
    ///
    /// The pass reads a snapshot through a connection of its own to the same file, so `database` stays
    /// free for writers meanwhile (about 0.8 s per 100,000 rows in a release build) and rows not yet
    /// committed are not seen. A chain cut short at the end verifies: compare `headHash`/`count` with a
    /// head recorded elsewhere.
    public static func verify(_ database: Database) throws -> AuditVerification {
        let reader = try Database(path: database.path)
        return try reader.read { connection in
            let checkpoint = try AuditArchive.checkpoint(on: connection)
            let statement = try connection.prepare("SELECT \(StoredAuditRow.selectList) FROM audit ORDER BY seq")
            var count = 0
            var expectedSeq = checkpoint.seq + 1
            var previousHash = checkpoint.hash
            var broken: (seq: Int64, reason: AuditChainBreak)?
            while broken == nil, try statement.step() {
                let row = StoredAuditRow(statement.row)
                broken = check(row, expectedSeq: expectedSeq, previousHash: previousHash)
                if broken == nil {
                    count += 1
                    expectedSeq += 1
                    previousHash = row.hash
                }
            }
            statement.reset()
            return AuditVerification(count: count, headHash: previousHash, firstBrokenSeq: broken?.seq,
                                     reason: broken?.reason, checkpointSeq: checkpoint.seq, checkpointHash: checkpoint.hash)
        }
    }

    /// The first thing wrong with `row`, or nil.
    static func check(_ row: StoredAuditRow, expectedSeq: Int64,
                              previousHash: String) -> (seq: Int64, reason: AuditChainBreak)? {
        if row.seq != expectedSeq {
            return (expectedSeq, .seqGap(expected: expectedSeq, found: row.seq))
        }
        if row.prevHash != previousHash {
            return (row.seq, .prevHashMismatch(stored: row.prevHash, expected: previousHash))
        }
        let computed: String
        do {
            computed = try row.computedHash()
        } catch {
            return (row.seq, .nonCanonicalValue(column: error.column, storageClass: error.storageClass))
        }
        if computed != row.hash {
            return (row.seq, .hashMismatch(stored: row.hash, computed: computed))
        }
        return nil
    }
}
