import Foundation
import Store

/// The audit benchmark: a history of `rows` rows written in the schema before 0007, its pages timed with
/// the listing SQL of that version (every column read, not decoded), then migrated and timed again
/// through `AuditLog.list` (rows decoded into records, as the route gets them); then archived
/// down to 100,000 rows (rows/s) and verified whole (segments plus database).
struct AuditBench {
    let directory: String
    let rows: Int
    let source: String?

    /// A filter of `GET /v1/audit` and its name in the report.
    struct Filter {
        let name: String
        let query: AuditQuery
    }

    func run() throws {
        let history = try AuditHistory(source: source)
        let path = directory + "/audit.db"
        let database = try Database(path: path)
        try Migrator(throughVersion: 6).apply(to: database)
        var started = Date()
        try history.fill(database, rows: rows)
        let perLifecycle = Double(history.lifecycle.count)
        print(String(format: "audit: %d rows written in %.1f s (%d rows per lifecycle copied from %@)", rows,
                     Date().timeIntervalSince(started), history.lifecycle.count, source == nil ? "the synthetic lifecycle" : "the lease run"))
        let filters = Self.filters(rows: rows, history: history)
        let before = try auditBytes(database)
        print(String(format: "before 0007: audit table and indexes %.1f MB, %.0f bytes per row, %.0f bytes per lifecycle", before / 1e6, before / Double(rows), before / Double(rows) * perLifecycle))
        _ = Self.raisePriority()
        for filter in filters { try measure(filter, database: database, legacy: true) }
        Self.lowerPriority()
        started = Date()
        try Migrator().apply(to: database)
        print(String(format: "migration 0007: %.2f s", Date().timeIntervalSince(started)))
        let after = try auditBytes(database)
        print(String(format: "after 0007: audit table and indexes %.1f MB, %.0f bytes per row, %.0f bytes per lifecycle", after / 1e6, after / Double(rows), after / Double(rows) * perLifecycle))
        let realtime = Self.raisePriority()
        print("pages timed " + (realtime ? "at SCHED_FIFO priority 10 (the shared machine's other load does not preempt them)"
                                         : "at normal priority (SCHED_FIFO refused): wall p99 includes preemption"))
        for filter in filters { try measure(filter, database: database, legacy: false) }
        Self.lowerPriority()
        try archive(database)
    }

    /// Pages of 100 rows (101 asked, as the route does) from the first row and from 90 % into the matches.
    private func measure(_ filter: Filter, database: Database, legacy: Bool) throws {
        let depthSeq = try database.read { connection -> Int64 in
            let (sql, bindings) = LegacyAuditSQL.select(filter.query, column: "seq", afterSeq: nil, limit: nil)
            let seqs = try connection.query(sql, bindings: bindings) { $0.int64(0) }
            return seqs.isEmpty ? 0 : seqs[seqs.count * 9 / 10]
        }
        var line = (legacy ? "  before " : "  after  ") + filter.name.padding(toLength: 26, withPad: " ", startingAt: 0)
        for (depth, afterSeq) in [("shallow", nil), ("deep", depthSeq)] as [(String, Int64?)] {
            var query = filter.query
            query.afterSeq = afterSeq
            query.limit = 101
            var times: [Double] = []
            var cpuTimes: [Double] = []
            var got = 0
            let repetitions = legacy ? 25 : 300
            for _ in 0..<repetitions {
                let start = DispatchTime.now().uptimeNanoseconds
                let cpuStart = Self.threadCPUNanoseconds()
                if legacy {
                    got = try database.read { connection in
                        let (sql, bindings) = LegacyAuditSQL.select(query, column: "*", afterSeq: afterSeq, limit: 101)
                        // Every column read, as the listing reads them (not decoded into records).
                        return try connection.query(sql, bindings: bindings) { row in (0..<16).map(row.value) }.count
                    }
                } else {
                    got = try AuditLog.list(query, in: database).count
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                cpuTimes.append(Double(Self.threadCPUNanoseconds() - cpuStart) / 1e6)
            }
            times.sort()
            cpuTimes.sort()
            let p99 = min(times.count - 1, times.count * 99 / 100)
            line += String(format: "  %@ %3d rows: wall p50 %.3f p99 %.3f ms, CPU p50 %.3f p99 %.3f ms", depth, got, times[times.count / 2],
                           times[p99], cpuTimes[cpuTimes.count / 2], cpuTimes[p99])
        }
        print(line)
    }

    /// Runs this thread at SCHED_FIFO priority 10 while pages are timed; false when not allowed.
    static func raisePriority() -> Bool {
        var parameters = sched_param(sched_priority: 10)
        return pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
    }

    /// Back to the normal scheduler.
    static func lowerPriority() {
        var parameters = sched_param(sched_priority: 0)
        _ = pthread_setschedparam(pthread_self(), SCHED_OTHER, &parameters)
    }

    /// This thread's CPU time: what a page costs, without the time the shared machine gave to others.
    static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func auditBytes(_ database: Database) throws -> Double {
        try database.read { connection in
            try connection.query("SELECT sum(pgsize) FROM dbstat WHERE name = 'audit' OR name LIKE 'audit\\_%' ESCAPE '\\'") { $0.double(0) }.first ?? 0
        }
    }

    private func archive(_ database: Database) throws {
        let target = directory + "/archive"
        let started = Date()
        let result = try AuditArchive.archive(database, before: .keepRows(100_000), to: target)
        let elapsed = Date().timeIntervalSince(started)
        print(String(format: "archive: %d rows in %d segments (%.1f MB compressed, %.0f bytes per row) in %.2f s: %.0f rows/s",
                     result.rows, result.segments, Double(result.bytes) / 1e6, Double(result.bytes) / Double(max(1, result.rows)),
                     elapsed, Double(result.rows) / elapsed))
        let verifyStart = Date()
        let verification = try AuditArchive.verify(database, archive: target)
        print(String(format: "verify segments + database: ok %@, %d rows in %.2f s", verification.ok ? "yes" : "NO",
                     verification.count, Date().timeIntervalSince(verifyStart)))
        try churn(Database(path: directory + "/churn.db"), history: AuditHistory(source: source), archive: directory + "/churn-archive")
    }

    /// Steady churn with retention on, in a fresh database: 100,000 rows appended, then all but the newest
    /// 100,000 archived, eight times over; the file's size after each round (SQLite reuses the pages rows
    /// leave, so it stops growing).
    private func churn(_ database: Database, history: AuditHistory, archive: String) throws {
        try Migrator().apply(to: database)
        var sizes: [String] = []
        var copy = 0
        for _ in 0..<8 {
            var written = 0
            while written < 100_000 {
                try database.write { connection in
                    for _ in 0..<100 {
                        for entry in history.entries(copy) {
                            try AuditLog.append(entry, in: connection)
                            written += 1
                        }
                        copy += 1
                    }
                }
            }
            _ = try AuditArchive.archive(database, before: .keepRows(100_000), to: archive)
            try database.withConnection { try $0.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
            let bytes = (try FileManager.default.attributesOfItem(atPath: database.path)[.size] as? NSNumber)?.intValue ?? 0
            sizes.append(String(format: "%.0f", Double(bytes) / 1e6))
        }
        print("steady churn, 100,000 rows kept, 100,000 appended and archived per round: database file after each round (MB): "
              + sizes.joined(separator: ", "))
    }

    static func filters(rows: Int, history: AuditHistory) -> [Filter] {
        let copies = rows / max(1, history.lifecycle.count)
        func time(_ fraction: Double) -> Date { AuditHistory.time(copy: Int(Double(copies) * fraction), row: 0) }
        let common = history.lifecycle.map(\.action).reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            .max { $0.value < $1.value }?.key ?? "operation.step"
        let device = AuditHistory.device(group: 105)
        return [
            Filter(name: "device", query: AuditQuery(device: device)),
            Filter(name: "group", query: AuditQuery(group: 105)),
            Filter(name: "assignment", query: AuditQuery(assignment: "asg-\(copies / 2)")),
            Filter(name: "holder", query: AuditQuery(holder: "vm-7")),
            Filter(name: "tenant", query: AuditQuery(tenant: "tenant-2")),
            Filter(name: "action (common)", query: AuditQuery(action: common)),
            Filter(name: "action (rare, 2 spellings)", query: AuditQuery(action: "assignment.expired")),
            Filter(name: "since", query: AuditQuery(since: time(0.5))),
            Filter(name: "until", query: AuditQuery(until: time(0.3))),
            Filter(name: "since+until", query: AuditQuery(since: time(0.4), until: time(0.6))),
            Filter(name: "action+since", query: AuditQuery(action: common, since: time(0.5))),
            Filter(name: "device+since", query: AuditQuery(device: device, since: time(0.5))),
            Filter(name: "holder+until", query: AuditQuery(holder: "vm-7", until: time(0.5))),
            Filter(name: "tenant+since+until", query: AuditQuery(tenant: "tenant-1", since: time(0.2), until: time(0.8))),
            Filter(name: "device+action", query: AuditQuery(device: device, action: common)),
            Filter(name: "group+action", query: AuditQuery(group: 105, action: common)),
            Filter(name: "holder+action", query: AuditQuery(holder: "vm-7", action: common)),
            Filter(name: "tenant+action", query: AuditQuery(tenant: "tenant-2", action: common)),
            Filter(name: "assignment+action", query: AuditQuery(assignment: "asg-\(copies / 2)", action: common)),
        ]
    }
}

/// The listing SQL of vfiod before migration 0007 (every filter a plain comparison, times compared
/// row by row), for the "before" figures and to find a deep page's seq.
enum LegacyAuditSQL {
    static func select(_ query: AuditQuery, column: String, afterSeq: Int64?, limit: Int?) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        func add(_ condition: String, _ value: SQLValue?) {
            guard let value else { return }
            conditions.append(condition)
            bindings.append(value)
        }
        add("device = ?", query.device.map(SQLValue.text))
        add("group_id = ?", query.group.map { .integer(Int64($0)) })
        add("assignment_id = ?", query.assignment.map(SQLValue.text))
        add("holder = ?", query.holder.map(SQLValue.text))
        add("tenant = ?", query.tenant.map(SQLValue.text))
        if let action = query.action {
            let spellings = AuditActions.spellings(of: action)
            conditions.append("action IN (" + Array(repeating: "?", count: spellings.count).joined(separator: ", ") + ")")
            bindings += spellings.map(SQLValue.text)
        }
        add("time >= ?", query.since.map { .text(Timestamp.format($0)) })
        add("time < ?", query.until.map { .text(Timestamp.format($0)) })
        add("seq > ?", afterSeq.map(SQLValue.integer))
        var sql = "SELECT \(column) FROM audit"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY seq"
        if let limit { sql += " LIMIT \(limit)" }
        return (sql, bindings)
    }
}
