import Foundation

/// Moves old audit rows out of the database into compressed JSON Lines segment files
/// (`AuditSegment`, named by `ArchiveDirectory.segmentName`) and leaves a checkpoint (table
/// `audit_archive`, migration 0007: each segment's seqs, its last row's hash, the file's SHA-256), so the
/// rows left verify from the checkpoint and `verify(_:archive:)` checks the whole history from seq 1.
///
/// Per segment, in this order: the rows are read and their chain checked; the file is written under a
/// temporary name, `fsync`ed, renamed and the directory synced; then one transaction records the segment
/// and deletes its rows. A crash before that commit leaves the rows in the database and a file no
/// checkpoint names, which the next run removes before writing it again; a crash after it leaves the
/// rows in the file alone. Nothing is lost, nothing is kept twice. The newest row always stays.
public enum AuditArchive {
    /// Which rows to archive.
    public enum Cutoff: Sendable, Hashable {
        /// Rows with a seq below this.
        case seq(Int64)
        /// Rows before this time (times follow seq: `AuditTimeRange`).
        case time(Date)
        /// All but the newest `n` rows.
        case keepRows(Int64)
    }

    /// What a run archived.
    public struct Result: Sendable, Hashable {
        /// Segment files written and committed.
        public var segments = 0
        /// Rows moved out of the database.
        public var rows = 0
        /// Compressed bytes written.
        public var bytes = 0
        /// The checkpoint after the run: the last archived seq (0 when none) and its hash.
        public var checkpointSeq: Int64 = 0
        /// The checkpoint row's hash (64 zeros when none).
        public var checkpointHash = StoredAuditRow.genesisHash
    }

    /// Rows per segment file unless told otherwise.
    public static let defaultSegmentRows = 20_000

    /// Archives the rows `cutoff` names into `directory`, one segment of up to `segmentRows` rows per
    /// transaction. Blocks the calling thread (file and database I/O). Throws `AuditArchiveError`, or
    /// `DatabaseError`; segments committed before a failure stay archived.
    public static func archive(_ database: Database, before cutoff: Cutoff, to directory: String,
                               segmentRows: Int = defaultSegmentRows) throws -> Result {
        guard segmentRows >= 1 else { throw AuditArchiveError.invalidCutoff("segment rows must be at least 1") }
        let files = ArchiveDirectory(path: directory)
        let lock = try files.lock()
        defer { close(lock) }
        let last = try lastSeq(before: cutoff, in: database)
        var result = Result()
        var checkpoint = try database.read { try Self.checkpoint(on: $0) }
        try files.removeUncommitted(after: checkpoint.seq)
        while checkpoint.seq < last {
            let through = min(last, checkpoint.seq + Int64(segmentRows))
            let rows = try database.read { try chainedRows(after: checkpoint, through: through, on: $0) }
            guard let newest = rows.last else { break }
            let bytes = try Gzip.compress(try AuditSegment.lines(rows))
            let name = ArchiveDirectory.segmentName(first: checkpoint.seq + 1, last: newest.seq)
            try files.writeDurably(bytes, as: name, crashPoint: crashPoint)
            let expected = checkpoint.seq
            try database.write { connection in
                let current = try Self.checkpoint(on: connection)
                guard current.seq == expected else { throw AuditArchiveError.checkpointMoved(expected: expected, found: current.seq) }
                try connection.run("""
                    INSERT INTO audit_archive (last_seq, first_seq, last_hash, segment, segment_sha256, segment_bytes, archived_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, .integer(newest.seq), .integer(expected + 1), .text(newest.hash), .text(name),
                    .text(SHA256.hexDigest(bytes)), .integer(Int64(bytes.count)), .text(Timestamp.format(Date())))
                try connection.run("DELETE FROM audit WHERE seq <= ?", .integer(newest.seq))
                crashPoint("archive rows deleted")
            }
            crashPoint("archive committed")
            checkpoint = (newest.seq, newest.hash)
            result.segments += 1
            result.rows += rows.count
            result.bytes += bytes.count
        }
        (result.checkpointSeq, result.checkpointHash) = checkpoint
        return result
    }

    /// The checkpoint the rows in the database chain on from: the last archived seq and its hash, or
    /// `(0, 64 zeros)` when nothing is archived (or the schema predates the archive, migration 0007).
    static func checkpoint(on connection: Connection) throws -> (seq: Int64, hash: String) {
        var found: (Int64, String) = (0, StoredAuditRow.genesisHash)
        let tables = try connection.query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_archive'") { $0.int64(0) }
        guard tables.first == 1 else { return found }
        try connection.cachedStatement("SELECT last_seq, last_hash FROM audit_archive ORDER BY last_seq DESC LIMIT 1")
            .forEachRow { found = ($0.int64(0), $0.string(1)) }
        return found
    }

    /// The last seq `cutoff` lets go, never the newest row.
    private static func lastSeq(before cutoff: Cutoff, in database: Database) throws -> Int64 {
        try database.read { connection in
            let head = try connection.query("SELECT coalesce(max(seq), 0) FROM audit") { $0.int64(0) }.first ?? 0
            let wanted: Int64
            switch cutoff {
            case .seq(let seq): wanted = seq - 1
            case .keepRows(let rows):
                guard rows >= 1 else { throw AuditArchiveError.invalidCutoff("keep at least 1 row") }
                wanted = head - rows
            case .time(let date):
                let range = try AuditTimeRange.seqRange(since: nil, until: date, on: connection)
                wanted = (range?.upperBound ?? 1) - 1
            }
            return min(wanted, head - 1)
        }
    }

    /// The rows after `checkpoint` through `through`, checked to chain on from it.
    private static func chainedRows(after checkpoint: (seq: Int64, hash: String), through: Int64,
                                    on connection: Connection) throws -> [StoredAuditRow] {
        let rows = try connection.query("SELECT \(StoredAuditRow.selectList) FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq",
                                        bindings: [.integer(checkpoint.seq), .integer(through)]) { StoredAuditRow($0) }
        var expected = checkpoint.seq + 1
        var previous = checkpoint.hash
        for row in rows {
            if let broken = AuditLog.check(row, expectedSeq: expected, previousHash: previous) {
                throw AuditArchiveError.brokenChain(seq: broken.seq, reason: broken.reason.description)
            }
            expected += 1
            previous = row.hash
        }
        return rows
    }

    /// Test-only crash injection: with `VFIOD_TEST_CRASH_ON=LABEL` the process kills itself with SIGKILL
    /// at the point of that label (`archive segment written`, … `archive committed`).
    static let crashLabel = ProcessInfo.processInfo.environment["VFIOD_TEST_CRASH_ON"]

    static func crashPoint(_ label: String) {
        guard label == crashLabel else { return }
        FileHandle.standardError.write(Data("vfiod: test crash at \(label)\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
