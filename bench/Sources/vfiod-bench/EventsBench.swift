import Foundation
import TestSupport

/// `vfiod-bench events PORT CLIENTS SECONDS stream|group|poll [DATABASE]`: CLIENTS readers of `GET /v1/events` (or pollers
/// of `GET /v1/assignments` with `If-None-Match`, once a second each) while 8 clients churn leases (each
/// at most `lifecyclesPerSecond`); prints
/// the lifecycles made, the changes delivered (or seen), and the delivery delay's p50 and p99: from the
/// audit row's `time`, and (streams, with vfiod's DATABASE given) from the row's commit (`CommitClock`).
enum EventsBench {
    /// Lease lifecycles per second each churner makes at most: the same steady load in every phase, below
    /// what the machine can do, so the delays measure delivery rather than a saturated host.
    static let lifecyclesPerSecond = 5.0

    /// Lease churners: each leases and releases its own group until `deadline`; returns the lifecycles made.
    static func churn(port: UInt16, clients: Int, until deadline: Date) -> Int {
        let lock = NSLock()
        nonisolated(unsafe) var made = 0
        let group = DispatchGroup()
        for index in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                let http = HTTPTestClient(port: port, receiveTimeoutSeconds: 60)
                let body = Array("{\"group\":\(100 + index),\"holder\":{\"id\":\"churn-\(index)\",\"tenant\":\"bench\"},\"ttlSeconds\":600}".utf8)
                var next = Date()
                while Date() < deadline {
                    next = next.addingTimeInterval(1 / lifecyclesPerSecond)
                    defer { if next > Date() { Thread.sleep(until: next) } }
                    do {
                        let created = try http.request(method: "POST", path: "/v1/assignments", headers: [("Content-Type", "application/json")], body: body)
                        guard created.status == 202, let bind = created.header("Operation-Location"),
                              let id = created.header("Location")?.split(separator: "/").last else { throw BenchError.status(created.status) }
                        _ = try http.request(path: bind + "?wait=30")
                        let released = try http.request(method: "DELETE", path: "/v1/assignments/\(id)")
                        guard let release = released.header("Operation-Location") else { throw BenchError.status(released.status) }
                        _ = try http.request(path: release + "?wait=30")
                        lock.withLock { made += 1 }
                    } catch {
                        http.close()
                    }
                }
                http.close()
                group.leave()
            }
        }
        group.wait()
        return lock.withLock { made }
    }

    static func run(port: UInt16, clients: Int, seconds: Double, mode: String, database: String?) throws {
        // Streams are read by one epoll loop per core (`readerLoops`), each with its share of the readers, as
        // 1,000 independent clients would be; pollers by one loop.
        let loops = mode == "poll" ? 1 : readerLoops
        let groups = (0..<loops).map { _ in EventReaders(port: port) }
        let clock = try database.map { try CommitClock(path: $0) }
        // `stream`: every reader follows every audit row; `group`: each follows one churned group's (an agent
        // watching its own VM's devices); `assignments`: every assignment's changes, what the pollers of
        // GET /v1/assignments look for.
        for (number, readers) in groups.enumerated() {
            let share = clients / loops + (number < clients % loops ? 1 : 0)
            let first = (0..<number).reduce(0) { total, _ in total + clients / loops } + min(number, clients % loops)
            try readers.connect(share) { index in
                let filter = mode == "group" ? "&group=\(100 + (first + index) % 8)" : ""
                let types = mode == "assignments" ? "assignment.changed" : "audit.appended"
                return mode == "poll" ? nil : "GET /v1/events?types=\(types)\(filter) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            }
        }
        // Let every stream open (or the pollers' first round pass) before the churn starts.
        let opening = Date().addingTimeInterval(mode == "poll" ? 1.5 : 1)
        _ = read(groups, mode: mode, until: opening)
        let before = groups.reduce(0) { $0 + $1.delivered }
        let deadline = Date().addingTimeInterval(seconds)
        nonisolated(unsafe) var lifecycles = 0
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            lifecycles = churn(port: port, clients: 8, until: deadline)
            done.signal()
        }
        let loopCPU = read(groups, mode: mode, until: deadline.addingTimeInterval(mode == "poll" ? 1.5 : 1))
        done.wait()
        clock?.stop()
        let sorted = groups.flatMap(\.delays).sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let opened = mode == "poll" ? clients : groups.reduce(0) { $0 + $1.opened }
        let delivered = groups.reduce(0) { $0 + $1.delivered } - before
        print(String(format: "events %@: %d clients (%d streams opened), %d lifecycles, %d changes delivered; delay p50 %.1f ms, p99 %.1f ms (%d samples); the readers' loops (%d) used %d ms of a core",
                     mode, clients, opened, lifecycles, delivered, percentile(0.5), percentile(0.99), sorted.count,
                     loops, loopCPU), terminator: "")
        if let clock {
            let fromCommit = groups.flatMap { commitDelays($0, clock) }.sorted()
            func at(_ p: Double) -> Double { fromCommit.isEmpty ? 0 : fromCommit[min(fromCommit.count - 1, Int(Double(fromCommit.count) * p))] }
            print(String(format: "; from the commit p50 %.1f ms, p99 %.1f ms (%d samples)", at(0.5), at(0.99), fromCommit.count), terminator: "")
        }
        print()
        groups.forEach { $0.close() }
    }

    /// Epoll loops reading streams (or polling) for one churn: from `VFIOD_BENCH_READER_LOOPS`, else 2 (this
    /// project's machine has two cores).
    static var readerLoops: Int {
        max(1, Int(ProcessInfo.processInfo.environment["VFIOD_BENCH_READER_LOOPS"] ?? "") ?? 2)
    }

    /// Runs each group's loop on a thread of its own until `deadline`; returns the CPU they used (ms).
    static func read(_ groups: [EventReaders], mode: String, until deadline: Date) -> Int {
        let cpu = NSLock()
        nonisolated(unsafe) var used = 0
        let finished = DispatchGroup()
        for readers in groups {
            finished.enter()
            nonisolated(unsafe) let loop = readers
            Thread.detachNewThread {
                let start = threadCPUMilliseconds()
                if mode == "poll" {
                    loop.poll("/v1/assignments?state=active", until: deadline)
                } else {
                    loop.readStreams(until: deadline)
                }
                cpu.withLock { used += threadCPUMilliseconds() - start }
                finished.leave()
            }
        }
        finished.wait()
        return cpu.withLock { used }
    }

    /// Each delivered row's arrival less its commit time (milliseconds).
    static func commitDelays(_ readers: EventReaders, _ clock: CommitClock) -> [Double] {
        var committed: [Int64: Double] = [:]
        var delays: [Double] = []
        delays.reserveCapacity(readers.seqs.count)
        for (arrival, seq) in zip(readers.arrivals, readers.seqs) {
            if committed[seq] == nil { committed[seq] = clock.committed(seq) ?? .nan }
            guard let time = committed[seq], !time.isNaN else { continue }
            delays.append((readers.epoch + Double(arrival) - time) * 1000)
        }
        return delays
    }
}

/// The calling thread's CPU time (user and system) in milliseconds: what the readers' loop costs the
/// machine vfiod shares (it runs on the calling thread).
func threadCPUMilliseconds() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
}
