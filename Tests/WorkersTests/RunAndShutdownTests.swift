import Foundation
import Testing
import Workers

@Suite(.timeLimit(.minutes(1))) struct RunAndShutdownTests {
    private struct Refused: Error, Equatable {
        let reason: String
    }

    @Test func runReturnsTheValueFromAPoolThread() async throws {
        let pool = WorkerPool(name: "runs", threads: 2, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let (value, threadName) = try await pool.run(key: "group-1") { (42, Thread.current.name ?? "") }
        #expect(value == 42)
        #expect(threadName.hasPrefix("runs-"))
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func runRethrowsTheBodysError() async throws {
        let pool = WorkerPool(name: "throws", threads: 1, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        await #expect(throws: Refused(reason: "EBUSY")) {
            try await pool.run(key: "group-1") { () throws -> Int in throw Refused(reason: "EBUSY") }
        }
        // The thread survives a throwing job.
        #expect(try await pool.run(key: "group-1") { "after" } == "after")
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func shutdownWaitsForRunningAndQueuedJobsThenRefusesNewOnes() async throws {
        let pool = WorkerPool(name: "drain", threads: 1, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let gate = Gate()
        let started = AsyncCounter()
        let log = Recorder<String>()
        try pool.submit(key: "group-1", label: "running") {
            started.increment()
            gate.wait()
            log.record("running job ended")
        }
        try pool.submit(key: nil, label: "queued") { log.record("queued job ended") }
        await started.wait(for: 1)
        pool.beginShutdown()
        #expect(throws: WorkerPoolError.shuttingDown) { try pool.submit(key: nil) {} }
        async let report = pool.shutdown(timeout: .seconds(50))
        gate.open()
        let stuck = await report
        log.record("shutdown returned")
        #expect(stuck == [])
        #expect(log.all == ["running job ended", "queued job ended", "shutdown returned"])
        #expect(pool.stats.threads == 0)
        await #expect(throws: WorkerPoolError.shuttingDown) { try await pool.run(key: nil) { 1 } }
    }

    @Test func shutdownGivesUpOnAStuckJobAfterTheTimeoutAndReportsIt() async throws {
        let (pool, forever) = try await poolWithABlockedJob(name: "giveup", queueLimit: 10, maxExtraThreads: 0,
                                                             stuckAfterSeconds: 60, key: "group-7", label: "unbind 0000:41:00.0")
        let ran = Recorder<String>()
        try pool.submit(key: "group-7", label: "restore") { ran.record("restore") }
        let behind = Task { try await pool.run(key: "group-7") { 7 } }
        let stuck = await pool.shutdown(timeout: .milliseconds(20))
        #expect(stuck == ["unbind 0000:41:00.0"])
        // Jobs that never started were dropped: `run` hears of it, the queue is empty.
        await #expect(throws: WorkerPoolError.shuttingDown) { try await behind.value }
        #expect(pool.stats.queued == 0)
        #expect(pool.stats.threads == 1)
        // A second call answers at once with the job still running.
        #expect(await pool.shutdown(timeout: .seconds(50)) == ["unbind 0000:41:00.0"])
        // Release the thread so the test process can clean up; the dropped job stays dropped.
        forever.open()
        #expect(ran.all == [])
    }
}
