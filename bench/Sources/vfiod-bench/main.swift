import Foundation
import Store
import TestSupport

// vfiod-bench: load generators for bench/run (not a test).
//   vfiod-bench leases PORT CLIENTS SECONDS       lease lifecycles (create → active → release → released)
//   vfiod-bench sqlite DIR SECONDS SOURCE_DB     raw SQLite: the lifecycles' rows from SOURCE_DB inserted
//                                                again into DIR/raw.db, same schema and pragmas as vfiod
//   vfiod-bench audit DIR ROWS [SOURCE_DB]        audit pages per filter at ROWS rows, before and after
//                                                migration 0007; archive throughput (AuditBench)
//   vfiod-bench events PORT CLIENTS SECONDS stream|group|poll [DB]   event-stream readers (all rows, or one
//                                                group's each) or pollers, while leases churn; DB: vfiod's
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
guard arguments.count == 5 && ["leases", "sqlite"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: vfiod-bench leases PORT CLIENTS SECONDS | sqlite DIR SECONDS SOURCE_DB | idle PID SECONDS\n".utf8))
    exit(2)
}

if arguments[1] == "sqlite" {
    let replay = try RowReplay(source: arguments[4], limit: 1000)
    let database = try Database(path: arguments[2] + "/raw.db")
    _ = try Migrator().apply(to: database)
    // Checkpoints off the inserting thread, as in vfiod.
    let checkpointer = try WALCheckpointer(database: database)
    let seconds = Double(arguments[3])!
    let perRow = String(format: "%.1f", replay.rowsPerLifecycle)
    try database.withConnection { connection in
        // SQLite alone, on this thread: no hand-over to vfiod's committer, no batching across lifecycles.
        let batched = try replay.run(on: connection, seconds: seconds / 2, transactionPerRow: false, tag: "l")
        let single = try replay.run(on: connection, seconds: seconds / 2, transactionPerRow: true, tag: "r")
        print(String(format: "sqlite, the same rows (%@ per lifecycle, copied from %d lifecycles of this run), one thread:", perRow, replay.lifecycles.count))
        print(String(format: "  one transaction per lifecycle: %.0f lifecycles/s (%.0f rows/s)",
                     Double(batched.lifecycles) / batched.elapsed, Double(batched.rows) / batched.elapsed))
        print(String(format: "  one transaction per row: %.0f commits/s (%.0f lifecycles/s)",
                     Double(single.rows) / single.elapsed, Double(single.lifecycles) / single.elapsed))
    }
    checkpointer.stop()
    exit(0)
}

let port = UInt16(arguments[2])!
let clients = Int(arguments[3])!
let seconds = Double(arguments[4])!
let lock = NSLock()
nonisolated(unsafe) var latencies: [Double] = []
nonisolated(unsafe) var failures = 0
let deadline = Date().addingTimeInterval(seconds)
let group = DispatchGroup()

/// One client leases its own group over and over on one keep-alive connection.
@Sendable func client(_ index: Int) {
    let http = HTTPTestClient(port: port, receiveTimeoutSeconds: 60)
    let body = Array("{\"group\":\(100 + index),\"holder\":{\"id\":\"bench-\(index)\",\"tenant\":\"bench\"},\"ttlSeconds\":600}".utf8)
    while Date() < deadline {
        let started = Date()
        do {
            let created = try http.request(method: "POST", path: "/v1/assignments", headers: [("Content-Type", "application/json")], body: body)
            guard created.status == 202, let bind = created.header("Operation-Location"),
                  let id = created.header("Location")?.split(separator: "/").last else { throw BenchError.status(created.status) }
            let bound = try http.request(path: bind + "?wait=30")
            guard bound.bodyText.contains("\"state\":\"succeeded\"") else { throw BenchError.status(bound.status) }
            let released = try http.request(method: "DELETE", path: "/v1/assignments/\(id)")
            guard released.status == 202, let release = released.header("Operation-Location") else { throw BenchError.status(released.status) }
            let done = try http.request(path: release + "?wait=30")
            guard done.bodyText.contains("\"state\":\"succeeded\"") else { throw BenchError.status(done.status) }
            let elapsed = Date().timeIntervalSince(started)
            lock.lock(); latencies.append(elapsed); lock.unlock()
        } catch {
            lock.lock(); failures += 1; lock.unlock()
            http.close()
        }
    }
    http.close()
}

enum BenchError: Error { case status(Int) }

let start = Date()
for index in 0..<clients {
    group.enter()
    Thread.detachNewThread { client(index); group.leave() }
}
group.wait()
let elapsed = Date().timeIntervalSince(start)
let sorted = latencies.sorted()
func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
print(String(format: "leases: %.0f lifecycles/s with %d clients (%d lifecycles, %d failed); p50 %.1f ms, p99 %.1f ms",
             Double(sorted.count) / elapsed, clients, sorted.count, failures, percentile(0.5), percentile(0.99)))
