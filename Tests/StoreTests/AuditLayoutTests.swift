import Foundation
import Testing
@testable import Store

/// Migration 0007's layout: a history written before it (times a little out of order, as concurrent
/// writers left them) carries over with its chain intact, `since`/`until` pages stay exact through the
/// binary search on seq, new rows keep times in seq order, and every filter walks an index.
@Suite struct AuditLayoutTests {
    /// Rows stored as an older vfiod stored them: times as given, not made to follow seq.
    static func appendLegacy(_ entries: [AuditEntry], to database: Database) throws {
        try database.write { connection in
            for entry in entries {
                let head = try connection.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") { ($0.int64(0), $0.string(1)) }.first
                let row = StoredAuditRow(seq: (head?.0 ?? 0) + 1, entry: entry, prevHash: head?.1 ?? StoredAuditRow.genesisHash)
                try connection.run("INSERT INTO audit (\(StoredAuditRow.selectList)) VALUES (\(Array(repeating: "?", count: 16).joined(separator: ", ")))",
                                   bindings: row.values + [.text(row.hash)])
            }
        }
    }

    /// Entry `index` of a history whose times jitter: every fifth row is stamped 2.5 s early.
    static func entry(_ index: Int) -> AuditEntry {
        let seconds = Double(index) - (index % 5 == 3 ? 2.5 : 0)
        return AuditEntry(time: auditTime(seconds), actor: "system", action: index % 7 == 0 ? "lease.expired" : "operation.step",
                          device: "0000:41:00.\(index % 3)", group: index % 4, assignment: "a\(index % 6)", holder: "h\(index % 5)",
                          tenant: "t\(index % 2)")
    }

    /// Every row `query` matches, by reading them all and filtering here.
    static func bruteForce(_ query: AuditQuery, in database: Database) throws -> [Int64] {
        try AuditLog.list(AuditQuery(), in: database).filter { record in
            let entry = record.entry
            func matches<T: Equatable>(_ wanted: T?, _ value: T?) -> Bool { wanted == nil || wanted == value }
            return matches(query.device, entry.device) && matches(query.group, entry.group)
                && matches(query.assignment, entry.assignment) && matches(query.holder, entry.holder)
                && matches(query.tenant, entry.tenant)
                && (query.action == nil || AuditActions.spellings(of: query.action!).contains(entry.action))
                && (query.since.map { entry.time >= $0 } ?? true)
                && (query.until.map { entry.time < $0 } ?? true)
        }.map(\.seq)
    }

    /// Pages of 4 through `query`, as the API pages.
    static func paged(_ query: AuditQuery, in database: Database) throws -> [Int64] {
        var seqs: [Int64] = []
        var page = query
        page.limit = 4
        while true {
            let records = try AuditLog.list(page, in: database)
            seqs += records.map(\.seq)
            guard records.count == 4 else { return seqs }
            page.afterSeq = records.last?.seq
        }
    }

    @Test func aHistoryWithTimesOutOfOrderMigratesAndItsTimeRangesStayExact() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try Migrator(throughVersion: 6).apply(to: database)
            try Self.appendLegacy((0..<60).map(Self.entry), to: database)
            try Migrator().apply(to: database)
            #expect(try AuditLog.verify(database).ok)
            #expect(try AuditLog.verify(database).count == 60)
            #expect(try runVerifyScript(on: database.path).status == 0)
            let listed = try database.read { try $0.query("SELECT count(*) FROM audit_time_order") { $0.int64(0) } }
            #expect(listed.first ?? 0 > 0, "the out-of-order rows are listed")
            // Rows after the migration: stamped earlier than the head, they take its time.
            for index in 60..<80 { try AuditLog.append(Self.entry(index), to: database) }
            let times = try AuditLog.list(AuditQuery(), in: database).map(\.entry.time)
            #expect(zip(times.dropFirst(60), times.dropFirst(61)).allSatisfy { $0 <= $1 })
            #expect(try AuditLog.verify(database).ok)
            var checked = 0
            for since in stride(from: -3.0, through: 82, by: 2.75) {
                for until in stride(from: since, through: 84, by: 9.5) {
                    for filter in [AuditQuery(), AuditQuery(device: "0000:41:00.1"), AuditQuery(action: "assignment.expired"),
                                   AuditQuery(holder: "h2", tenant: "t0"), AuditQuery(group: 3, action: "operation.step")] {
                        var query = filter
                        query.since = auditTime(since)
                        query.until = auditTime(until)
                        #expect(try Self.paged(query, in: database) == Self.bruteForce(query, in: database), "\(query)")
                        query.until = nil
                        #expect(try Self.paged(query, in: database) == Self.bruteForce(query, in: database), "\(query)")
                        checked += 1
                    }
                }
            }
            #expect(checked > 100)
        }
    }

    @Test func everyFilterCombinationWalksAnIndexInSeqOrder() throws {
        try withAuditDatabase { database, _ in
            try appendSample(10, to: database)
            let names = ["device", "group", "assignment", "holder", "tenant", "action", "since", "until"]
            for mask in 0..<(1 << names.count) {
                var query = AuditQuery()
                if mask & 1 != 0 { query.device = "0000:41:00.0" }
                if mask & 2 != 0 { query.group = 1 }
                if mask & 4 != 0 { query.assignment = "a" }
                if mask & 8 != 0 { query.holder = "h" }
                if mask & 16 != 0 { query.tenant = "t" }
                if mask & 32 != 0 { query.action = "assignment.expired" }
                let range: Range<Int64>? = mask & (64 | 128) != 0 ? 3..<8 : nil
                let (sql, bindings) = query.selectStatement(afterSeq: 2, limit: 101, seqRange: range)
                let plan = try database.read { try $0.query("EXPLAIN QUERY PLAN " + sql, bindings: bindings) { $0.string(3) } }
                let filters = names.indices.filter { mask & (1 << $0) != 0 }.map { names[$0] }
                #expect(plan.count == 1 && plan[0].hasPrefix("SEARCH audit"), "\(filters): \(plan)")
                #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(filters) sorts: \(plan)")
            }
        }
    }

    @Test func anEntryStampedBeforeTheHeadTakesTheHeadsTime() throws {
        try withAuditDatabase { database, _ in
            try AuditLog.append(AuditEntry(time: auditTime(10), actor: "system", action: "a"), to: database)
            let late = try AuditLog.append(AuditEntry(time: auditTime(4), actor: "system", action: "b"), to: database)
            #expect(late.entry.time == auditTime(10))
            #expect(try AuditLog.list(AuditQuery(since: auditTime(10)), in: database).map(\.seq) == [1, 2])
            #expect(try AuditLog.verify(database).ok)
        }
    }
}
