import Foundation
import Store
import TestSupport

// vfiod-bench: load generators for bench/run (not a test).
//   vfiod-bench leases PORT CLIENTS SECONDS   lease lifecycles (create → active → release → released)
//   vfiod-bench sqlite DIR SECONDS            raw SQLite commits of audit rows, same pragmas as vfiod

let arguments = CommandLine.arguments
guard arguments.count == 5 && arguments[1] == "leases" || arguments.count == 4 && arguments[1] == "sqlite" else {
    FileHandle.standardError.write(Data("usage: vfiod-bench leases PORT CLIENTS SECONDS | sqlite DIR SECONDS\n".utf8))
    exit(2)
}

if arguments[1] == "sqlite" {
    let database = try Database(path: arguments[2] + "/raw.db")
    _ = try Migrator().apply(to: database)
    let seconds = Double(arguments[3])!
    let start = Date()
    var commits = 0
    // SQLite alone: one connection, one transaction per row, on this thread (no hand-over to vfiod's
    // committer thread, no batching).
    try database.withConnection { connection in
        while Date().timeIntervalSince(start) < seconds {
            try connection.transaction(.immediate) { connection in
                _ = try AuditLog.append(AuditEntry(actor: "bench", action: "operation.step", device: "0000:10:00.0", group: 100,
                                                   assignment: "asg_0", before: ["driver": "none"], after: ["driver": "vfio-pci"],
                                                   detail: "bind step"), in: connection)
            }
            commits += 1
        }
    }
    let elapsed = Date().timeIntervalSince(start)
    print(String(format: "sqlite: %.0f commits/s (%d audit rows, one transaction each)", Double(commits) / elapsed, commits))
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
