import Foundation
import Store

/// The raw SQLite reference for the lease benchmark: the rows vfiod stored for its lifecycles (assignment,
/// its devices, the two operations, their steps, the audit rows), copied from the run's own database and
/// inserted again into a fresh database with vfiod's schema, indexes and pragmas, on one thread, with
/// nothing else: no HTTP, no kernel, no hand-over to a committer, no hashing (the stored hashes are
/// copied). Each copy gets new ids and audit numbers, so every insert lands as vfiod's did.
struct RowReplay {
    /// One stored row: its table, its columns and their values.
    struct StoredRow {
        let table: String
        let columns: [String]
        let values: [SQLValue]
        /// The statement that inserts it.
        var sql: String {
            let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            return "INSERT INTO \(table) (\(names)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        }
        /// The positions of the values a copy renames (ids) and renumbers (the audit's `seq`).
        var idPositions: [Int] { columns.indices.filter { RowReplay.idColumns.contains(columns[$0]) } }
        var seqPosition: Int? { table == "audit" ? columns.firstIndex(of: "seq") : nil }
    }

    /// A row ready to copy: its statement and where its copy differs, worked out once, outside the timing.
    private struct Template {
        let sql: String
        let values: [SQLValue]
        let idPositions: [Int]
        let seqPosition: Int?

        init(_ row: StoredRow) {
            (sql, values, idPositions, seqPosition) = (row.sql, row.values, row.idPositions, row.seqPosition)
        }
    }

    /// The tables of a lifecycle, in an order that satisfies their foreign keys.
    static let tables = ["assignments", "assignment_devices", "operations", "operation_steps", "audit"]
    /// Columns that hold an assignment's or an operation's id: renamed in every copy.
    static let idColumns: Set<String> = ["id", "assignment_id", "operation_id"]

    /// Each lifecycle's rows, in insertion order.
    let lifecycles: [[StoredRow]]

    /// Reads up to `limit` released lifecycles from the database at `path`.
    init(source path: String, limit: Int) throws {
        let source = try Database(path: path)
        lifecycles = try source.read { connection in
            let ids = try connection.query("SELECT id FROM assignments WHERE state = 'released' ORDER BY id LIMIT ?",
                                           bindings: [.integer(Int64(limit))]) { $0.string(0) }
            return try ids.map { id in
                let operations = "SELECT id FROM operations WHERE assignment_id = ?1"
                let filters = [
                    "assignments": "id = ?1",
                    "assignment_devices": "assignment_id = ?1",
                    "operations": "assignment_id = ?1",
                    "operation_steps": "operation_id IN (\(operations)) ORDER BY operation_id, seq",
                    "audit": "assignment_id = ?1 ORDER BY seq",
                ]
                return try Self.tables.flatMap { table in
                    try connection.query("SELECT * FROM \(table) WHERE \(filters[table]!)", bindings: [.text(id)]) { row in
                        StoredRow(table: table, columns: (0..<row.columnCount).map(row.columnName),
                                  values: (0..<row.columnCount).map(row.value))
                    }
                }
            }
        }
    }

    /// Rows in one lifecycle, on average.
    var rowsPerLifecycle: Double {
        lifecycles.isEmpty ? 0 : Double(lifecycles.reduce(0) { $0 + $1.count }) / Double(lifecycles.count)
    }

    /// How the copies are split into transactions.
    enum Grain {
        /// One transaction per lifecycle.
        case lifecycle
        /// One transaction per row.
        case row
        /// `commits` transactions per lifecycle on average, as vfiod's committer made them in the same run:
        /// a commit after every rows-per-lifecycle ÷ `commits` rows, across lifecycle boundaries.
        case commitsPerLifecycle(Double)
    }

    /// What a replay stored and what it cost: lifecycles and rows committed, wall time, and the inserting
    /// thread's CPU time (seconds).
    struct Outcome {
        let lifecycles: Int
        let rows: Int
        let elapsed: Double
        let cpu: Double
    }

    /// Inserts copies of the lifecycles into `connection` for `seconds`, split into transactions by
    /// `grain`. The copies' ids end in `-<tag><copy>`: a tag not used before on the same database.
    func run(on connection: Connection, seconds: Double, grain: Grain, tag: String) throws -> Outcome {
        guard !lifecycles.isEmpty else { return Outcome(lifecycles: 0, rows: 0, elapsed: 0, cpu: 0) }
        var nextSeq = try connection.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit") { $0.int64(0) }.first ?? 1
        let templates = lifecycles.map { $0.map(Template.init) }
        let rowsPerCommit: Double
        switch grain {
        case .lifecycle: rowsPerCommit = .infinity
        case .row: rowsPerCommit = 1
        case .commitsPerLifecycle(let commits): rowsPerCommit = max(1, rowsPerLifecycle / max(commits, 0.01))
        }
        var copy = 0
        var rows = 0
        var commits = 0
        let start = Date()
        let cpuStart = threadCPUMilliseconds()
        try connection.run("BEGIN IMMEDIATE")
        while Date().timeIntervalSince(start) < seconds {
            let lifecycle = templates[copy % templates.count]
            copy += 1
            let suffix = "-" + tag + String(copy, radix: 16)
            for row in lifecycle {
                var bindings = row.values
                for position in row.idPositions {
                    if case .text(let id) = bindings[position] { bindings[position] = .text(id + suffix) }
                }
                if let position = row.seqPosition {
                    bindings[position] = .integer(nextSeq)
                    nextSeq += 1
                }
                try connection.run(row.sql, bindings: bindings)
                rows += 1
                if Double(rows) >= Double(commits + 1) * rowsPerCommit {
                    try connection.run("COMMIT")
                    commits += 1
                    try connection.run("BEGIN IMMEDIATE")
                }
            }
            if case .lifecycle = grain {
                try connection.run("COMMIT")
                try connection.run("BEGIN IMMEDIATE")
            }
        }
        try connection.run("COMMIT")
        return Outcome(lifecycles: copy, rows: rows, elapsed: Date().timeIntervalSince(start),
                       cpu: Double(threadCPUMilliseconds() - cpuStart) / 1000)
    }
}
