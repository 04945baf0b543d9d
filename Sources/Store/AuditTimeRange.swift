import Foundation

/// Turns `since`/`until` into the range of seqs holding those times, by a binary search on seq.
///
/// Times follow seq (migration 0007): `AuditLog.append` stores each row's time as at least the previous
/// row's, so along seq the time never goes back, and "rows at or after T" are the rows from the first seq
/// whose time is ≥ T. Rows written before 0007 may be out of order by a few milliseconds; for those,
/// `audit_time_order` holds the latest time up to the row (`not_before`) and the earliest from it on
/// (`not_after`), and the search runs on those two functions of seq, which never go back:
///
/// - `since`: the first seq whose `not_before` ≥ since. Every row before it is earlier than `since`.
/// - `until`: the first seq whose `not_after` ≥ until. Every row from it on is at or after `until`.
///
/// Rows inside the range are still compared with the times (`AuditQuery`), so the listing is exact; the
/// range only keeps each filter's index walk inside it. About 2 × 20 row reads for a million rows.
enum AuditTimeRange {
    /// The seqs that can hold rows in `[since, until)`; nil when neither is given. Empty when none can.
    static func seqRange(since: Date?, until: Date?, on connection: Connection) throws -> Range<Int64>? {
        guard since != nil || until != nil else { return nil }
        let bounds = try connection.cachedStatement("SELECT (SELECT min(seq) FROM audit), (SELECT max(seq) FROM audit)")
        var first: Int64 = 0
        var last: Int64 = -1
        try bounds.forEachRow { row in
            if case .integer(let low) = row.value(0), case .integer(let high) = row.value(1) { (first, last) = (low, high) }
        }
        guard first <= last else { return 0..<0 }
        let probe = try Probe(connection)
        var lower = first
        var upper = last + 1
        if let since {
            let time = Timestamp.format(since)
            lower = try firstSeq(in: first...(last + 1)) { try probe.notBefore($0) >= time }
        }
        if let until {
            let time = Timestamp.format(until)
            upper = try firstSeq(in: first...(last + 1)) { try probe.notAfter($0) >= time }
        }
        return lower < upper ? lower..<upper : lower..<lower
    }

    /// The first seq in `range` (whose last value stands for "past the end") for which `isAtOrAfter` holds;
    /// `isAtOrAfter` must be false, then true, along seq.
    private static func firstSeq(in range: ClosedRange<Int64>, _ isAtOrAfter: (Int64) throws -> Bool) throws -> Int64 {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if try isAtOrAfter(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Reads a row's time and its `audit_time_order` entry.
    private struct Probe {
        let connection: Connection
        /// The last listed row and its `not_before`: rows after it are in order, but none is earlier than it.
        let lastListed: (seq: Int64, notBefore: String)?

        init(_ connection: Connection) throws {
            self.connection = connection
            var last: (Int64, String)?
            try connection.cachedStatement("SELECT seq, not_before FROM audit_time_order ORDER BY seq DESC LIMIT 1")
                .forEachRow { last = ($0.int64(0), $0.string(1)) }
            lastListed = last
        }

        /// The latest time of the rows up to `seq`.
        func notBefore(_ seq: Int64) throws -> String {
            let (time, listed, _) = try read(seq)
            if let listed { return listed }
            if let lastListed, seq > lastListed.seq, lastListed.notBefore > time { return lastListed.notBefore }
            return time
        }

        /// The earliest time of the rows from `seq` on.
        func notAfter(_ seq: Int64) throws -> String {
            let (time, _, listed) = try read(seq)
            return listed ?? time
        }

        private func read(_ seq: Int64) throws -> (time: String, notBefore: String?, notAfter: String?) {
            let statement = try connection.cachedStatement("""
                SELECT a.time, o.not_before, o.not_after FROM audit a LEFT JOIN audit_time_order o ON o.seq = a.seq
                 WHERE a.seq = ?
                """)
            try statement.bind([.integer(seq)])
            var found: (String, String?, String?)?
            try statement.forEachRow { row in
                found = (row.string(0), row.nullableString(1), row.nullableString(2))
            }
            guard let found else { throw AuditLogError.invalidRow(seq: seq, reason: "missing inside the history's seq range") }
            return found
        }
    }
}
