import CBenchEpoll
import Foundation
import Store
import TestSupport

// vfiod-bench: load generators for bench/run (not a test).
//   vfiod-bench leases PORT CLIENTS SECONDS       lease lifecycles (create → active → release → released),
//                                                CLIENTS connections on one epoll thread (bench_leases.c)
//   vfiod-bench sqlite DIR SECONDS SOURCE_DB [COMMITS]  raw SQLite: the lifecycles' rows from SOURCE_DB inserted
//                                                again into DIR/raw.db, same schema and pragmas as vfiod; one
//                                                transaction per lifecycle, one per row, and (with COMMITS)
//                                                COMMITS per lifecycle, vfiod's own grain in the same run
//   vfiod-bench audit DIR ROWS [SOURCE_DB]        audit pages per filter at ROWS rows, before and after
//                                                migration 0007; archive throughput (AuditBench)
//   vfiod-bench events PORT CLIENTS SECONDS stream|group|assignments|poll [DB]   event-stream readers (all rows, or one
//                                                group's each, or every assignment's changes) or pollers, while leases churn; DB: vfiod's
//                                                database, for the delay from each row's commit
//   vfiod-bench idle PID SECONDS                 the CPU process PID spends in SECONDS, per hour and by thread

let arguments = CommandLine.arguments
if arguments.count >= 4 && arguments[1] == "audit" {
    try AuditBench(directory: arguments[2], rows: Int(arguments[3])!, source: arguments.count > 4 ? arguments[4] : nil).run()
    exit(0)
}
if (6...7).contains(arguments.count) && arguments[1] == "events" {
    try EventsBench.run(port: UInt16(arguments[2])!, clients: Int(arguments[3])!, seconds: Double(arguments[4])!, mode: arguments[5],
                        database: arguments.count == 7 ? arguments[6] : nil)
    exit(0)
}
if arguments.count == 4, arguments[1] == "idle", let pid = Int32(arguments[2]), let seconds = Double(arguments[3]) {
    IdleCost.run(pid: pid, seconds: seconds)
    exit(0)
}
guard arguments.count == 5 || (arguments.count == 6 && arguments[1] == "sqlite"), ["leases", "sqlite"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: vfiod-bench leases PORT CLIENTS SECONDS | sqlite DIR SECONDS SOURCE_DB [COMMITS] | idle PID SECONDS\n".utf8))
    exit(2)
}

if arguments[1] == "sqlite" {
    let replay = try RowReplay(source: arguments[4], limit: 1000)
    let database = try Database(path: arguments[2] + "/raw.db")
    _ = try Migrator().apply(to: database)
    // Checkpoints off the inserting thread, as in vfiod.
    let checkpointer = try WALCheckpointer(database: database)
    let seconds = Double(arguments[3])!
    let commits = arguments.count > 5 ? Double(arguments[5]) : nil
    let perRow = String(format: "%.1f", replay.rowsPerLifecycle)
    try database.withConnection { connection in
        // SQLite alone, on this thread: no hand-over to vfiod's committer, no batching across lifecycles.
        let share = seconds / (commits == nil ? 2 : 3)
        let batched = try replay.run(on: connection, seconds: share, grain: .lifecycle, tag: "l")
        let single = try replay.run(on: connection, seconds: share, grain: .row, tag: "r")
        print(String(format: "sqlite, the same rows (%@ per lifecycle, copied from %d lifecycles of this run), one thread:", perRow, replay.lifecycles.count))
        print(String(format: "  one transaction per lifecycle: %.0f lifecycles/s (%.0f rows/s), %.3f ms of CPU per lifecycle",
                     Double(batched.lifecycles) / batched.elapsed, Double(batched.rows) / batched.elapsed,
                     batched.cpu * 1000 / Double(max(1, batched.lifecycles))))
        print(String(format: "  one transaction per row: %.0f commits/s (%.0f lifecycles/s)",
                     Double(single.rows) / single.elapsed, Double(single.lifecycles) / single.elapsed))
        if let commits {
            // The committer's grain in this run: the same rows in as many commits per lifecycle as vfiod made.
            let same = try replay.run(on: connection, seconds: share, grain: .commitsPerLifecycle(commits), tag: "c")
            print(String(format: "  %.2f commits per lifecycle, as vfiod's committer made them: %.0f lifecycles/s, %.3f ms of CPU per lifecycle",
                         commits, Double(same.lifecycles) / same.elapsed, same.cpu * 1000 / Double(max(1, same.lifecycles))))
        }
    }
    checkpointer.stop()
    exit(0)
}

// One thread, one epoll loop, CLIENTS keep-alive connections (bench_leases.c): the client takes as little as
// it can of the cores vfiod runs on, and says how much that is.
var result = bench_lease_result()
guard bench_leases(UInt16(arguments[2])!, Int32(arguments[3])!, 100, Double(arguments[4])!, &result) == 0 else {
    FileHandle.standardError.write(Data("vfiod-bench leases: epoll failed: errno \(errno)\n".utf8))
    exit(1)
}
print(String(format: "leases: %.0f lifecycles/s with %@ clients (%ld lifecycles, %ld failed); p50 %.1f ms, p99 %.1f ms; the client used %.3f ms of CPU per lifecycle",
             Double(result.lifecycles) / result.elapsed, arguments[3], result.lifecycles, result.failures, result.p50_ms, result.p99_ms,
             result.cpu_seconds * 1000 / Double(max(1, result.lifecycles))))

/// An HTTP status or errno a load client did not expect.
enum BenchError: Error { case status(Int) }
