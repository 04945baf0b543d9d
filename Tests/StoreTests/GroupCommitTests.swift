import Foundation
import Synchronization
import Testing
@testable import Store

/// Write transactions of threads that arrive together share one commit, and behave as if each had its own.
@Suite struct GroupCommitTests {
    /// Starts `count` threads that each run `body(index)` and waits for all of them.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread { body(index); group.leave() }
        }
        group.wait()
    }

    /// Starts `count` threads running `body(index)`; once `condition` holds (checked while they run),
    /// calls `release`, then waits for every thread.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void,
                           releaseWhen condition: () -> Bool, release: () -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread { body(index); group.leave() }
        }
        let deadline = Date().addingTimeInterval(30)
        while !condition() && Date() < deadline { sched_yield() }
        #expect(condition(), "the writers never all waited for the connection")
        release()
        group.wait()
    }

    @Test func transactionsArrivingTogetherShareOneCommitAndEachIsVisibleOnReturn() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER UNIQUE)")
            let batchesBefore = database.writer.endedBatchCount
            let countsBefore = database.commitCounts
            let holdFirst = DispatchSemaphore(value: 0)
            let firstInside = DispatchSemaphore(value: 0)
            let seen = Mutex<[Int: Int64]>([:])
            // The first body holds the committer until three more writers are queued behind it.
            onThreads(4) { index in
                if index > 0 { firstInside.wait(); firstInside.signal() }
                let visible = try? database.write { connection -> Int64 in
                    if index == 0 {
                        firstInside.signal()
                        holdFirst.wait()
                    }
                    try connection.run("INSERT INTO t (n) VALUES (?)", .integer(Int64(index)))
                    return 0
                }
                // Once `transaction` returned, the row is committed: the read-only connection sees it.
                let count = (try? database.read { try $0.query("SELECT count(*) FROM t WHERE n = ?", bindings: [.integer(Int64(index))]) { $0.int64(0) } })?.first
                seen.withLock { $0[index] = visible == nil ? -1 : count ?? -1 }
            } releaseWhen: {
                database.writer.queuedCount == 3
            } release: {
                holdFirst.signal()
            }
            #expect(seen.withLock { $0 } == [0: 1, 1: 1, 2: 1, 3: 1])
            #expect(database.writer.endedBatchCount == batchesBefore + 1)
            // One commit carried the four transactions (what /metrics shows as vfiod_store_*_total).
            #expect(database.commitCounts == CommitCounts(commits: countsBefore.commits + 1, transactions: countsBefore.transactions + 4))
            #expect(try database.query("SELECT count(*) FROM t") { $0.int64(0) } == [4])
        }
    }

    @Test func aBodyThatThrowsUndoesOnlyItsOwnChangesInASharedBatch() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER UNIQUE)")
            let holdFirst = DispatchSemaphore(value: 0)
            let firstInside = DispatchSemaphore(value: 0)
            let outcomes = Mutex<[Int: String]>([:])
            onThreads(3) { index in
                if index > 0 { firstInside.wait(); firstInside.signal() }
                do {
                    try database.write { connection in
                        if index == 0 { firstInside.signal(); holdFirst.wait() }
                        try connection.run("INSERT INTO t (n) VALUES (?)", .integer(Int64(10 + index)))
                        // The second writer inserts a duplicate of the first's row after its own: both undone.
                        if index == 1 { try connection.run("INSERT INTO t (n) VALUES (10)") }
                    }
                    outcomes.withLock { $0[index] = "committed" }
                } catch {
                    outcomes.withLock { $0[index] = "failed" }
                }
            } releaseWhen: {
                database.writer.queuedCount == 2
            } release: {
                holdFirst.signal()
            }
            #expect(outcomes.withLock { $0 } == [0: "committed", 1: "failed", 2: "committed"])
            #expect(try database.query("SELECT n FROM t ORDER BY n") { $0.int64(0) } == [10, 12])
        }
    }

    @Test func manyWritersKeepTheAuditChainWhole() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            _ = try Migrator().apply(to: database)
            onThreads(16) { index in
                for step in 0..<25 {
                    _ = try? database.write { connection in
                        try AuditLog.append(AuditEntry(actor: "writer-\(index)", action: "step \(step)"), in: connection)
                    }
                }
            }
            let verification = try AuditLog.verify(database)
            #expect(verification.ok && verification.count == 400)
            // Each writer's rows are in the chain in the order it wrote them.
            let records = try AuditLog.list(AuditQuery(), in: database)
            let byWriter = Dictionary(grouping: records, by: \.entry.actor).mapValues { $0.map(\.entry.action) }
            #expect(byWriter.count == 16)
            #expect(byWriter.values.allSatisfy { $0 == (0..<25).map { "step \($0)" } })
        }
    }

    @Test func aNestedTransactionIsASavepointOfTheOuterOne() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            try database.write { connection in
                try connection.run("INSERT INTO t (n) VALUES (1)")
                #expect(throws: DatabaseError.self) {
                    try database.write { inner in
                        try inner.run("INSERT INTO t (n) VALUES (2)")
                        try inner.run("INSERT INTO nowhere (n) VALUES (3)")
                    }
                }
                try database.withConnection { try $0.run("INSERT INTO t (n) VALUES (4)") }
            }
            #expect(try database.query("SELECT n FROM t ORDER BY n") { $0.int64(0) } == [1, 4])
        }
    }

    @Test func anAsyncWriteJoinsTheBatchOfThreadsWaitingAndReturnsOnceCommitted() async throws {
        try await withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER UNIQUE)")
            let batchesBefore = database.writer.endedBatchCount
            let holdFirst = DispatchSemaphore(value: 0)
            let firstInside = DispatchSemaphore(value: 0)
            // A thread holds the committer inside its body while tasks queue their writes behind it.
            let holder = Thread {
                _ = try? database.write { connection in
                    firstInside.signal()
                    holdFirst.wait()
                    try connection.run("INSERT INTO t (n) VALUES (0)")
                }
            }
            holder.start()
            firstInside.wait()
            try await withThrowingTaskGroup(of: Int64.self) { tasks in
                for index in 1...3 {
                    tasks.addTask {
                        try await database.write { connection -> Int64 in
                            try connection.run("INSERT INTO t (n) VALUES (?)", .integer(Int64(index)))
                            return Int64(index)
                        }
                    }
                }
                // A write that throws is undone alone and its error reaches the task.
                tasks.addTask {
                    do {
                        try await database.write { connection in
                            try connection.run("INSERT INTO t (n) VALUES (99)")
                            try connection.run("INSERT INTO nowhere (n) VALUES (1)")
                        }
                        return -1
                    } catch is DatabaseError {
                        return 0
                    }
                }
                let deadline = Date().addingTimeInterval(30)
                while database.writer.queuedCount < 4 && Date() < deadline { await Task.yield() }
                #expect(database.writer.queuedCount == 4, "the writes never all waited for the committer")
                holdFirst.signal()
                var results: [Int64] = []
                for try await result in tasks { results.append(result) }
                #expect(results.sorted() == [0, 1, 2, 3])
            }
            // Every write had committed when its task resumed: the read-only connection sees all of them.
            #expect(try database.read { try $0.query("SELECT n FROM t ORDER BY n") { $0.int64(0) } } == [0, 1, 2, 3])
            #expect(database.writer.endedBatchCount == batchesBefore + 1)
        }
    }

    @Test func theCommitterRunsAtAHigherPriorityWhereTheProcessMayGiveIt() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let committerNice = try database.write { _ in
                // /proc/thread-self/stat: field 19 is the nice value (after the parenthesised name).
                let stat = try String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)
                let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
                return Int32(fields[16])
            }
            let processNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            // Root (as in CI) may raise priority; otherwise the committer keeps the process's.
            #expect(committerNice == (geteuid() == 0 ? GroupCommit.committerNice : Int32(processNice)))
        }
    }
}
