import Testing
import Workers

@Suite(.timeLimit(.minutes(1))) struct StuckJobTests {
    @Test func aJobBlockedForeverDoesNotStopOtherKeys() async throws {
        let (pool, forever) = try await poolWithABlockedJob(name: "stuck", queueLimit: 100, maxExtraThreads: 2,
                                                                label: "unbind 0000:41:00.0")
        let done = AsyncCounter()
        for index in 0..<50 {
            try pool.submit(key: "group-B\(index)") { done.increment() }
        }
        // The only base thread is stuck: these complete only on an extra thread the pool starts.
        await done.wait(for: 50)
        let stats = pool.stats
        #expect(stats.extraThreadsStarted >= 1)
        #expect(stats.threads <= 1 + 2)
        #expect(stats.stuckJobs.map(\.label) == ["unbind 0000:41:00.0"])
        #expect(stats.stuckJobs.first?.key == "group-A")
        #expect(stats.stuckJobs.first.map { $0.seconds >= 0.01 } == true)
        #expect(stats.busy >= 1)

        forever.open()
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
        #expect(pool.stats.threads == 0)
    }

    @Test func withoutExtraThreadsAStuckJobIsReportedAndTheQueueWaits() async throws {
        let (pool, forever) = try await poolWithABlockedJob(name: "noextra", queueLimit: 10, maxExtraThreads: 0,
                                                                label: "hung reset")
        try pool.submit(key: "group-B") {}
        // Waiting for the report is waiting on a condition (the stuck threshold), not asserting a time.
        while pool.stats.stuckJobs.isEmpty && !Task.isCancelled { await Task.yield() }
        let stats = pool.stats
        #expect(stats.stuckJobs.map(\.label) == ["hung reset"])
        #expect(stats.queued == 1)
        #expect(stats.extraThreadsStarted == 0)
        #expect(stats.threads == 1)
        forever.open()
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }
}
