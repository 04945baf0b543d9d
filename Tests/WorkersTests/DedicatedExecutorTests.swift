import Foundation
import Testing
import Workers

@Suite(.timeLimit(.minutes(1))) struct DedicatedExecutorTests {
    @Test func runsEveryCallOnOneThreadInSubmissionOrder() async throws {
        let executor = DedicatedExecutor(name: "sqlite", queueLimit: 200, stuckAfterSeconds: 60)
        let calls = Recorder<(index: Int, thread: String)>()
        for index in 0..<100 {
            try executor.submit(label: "insert \(index)") {
                calls.record((index, Thread.current.name ?? ""))
            }
        }
        let last = try await executor.run(label: "count") { calls.all.count }
        #expect(last == 100)
        #expect(calls.all.map(\.index) == Array(0..<100))
        #expect(Set(calls.all.map(\.thread)) == ["sqlite-0"])
        #expect(await executor.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func neverStartsASecondThreadBesideAStuckCall() async throws {
        let executor = DedicatedExecutor(name: "serial", queueLimit: 10, stuckAfterSeconds: 0.01)
        let forever = Gate()
        let started = AsyncCounter()
        try executor.submit(label: "busy timeout") {
            started.increment()
            forever.wait()
        }
        await started.wait(for: 1)
        try executor.submit {}
        while executor.stats.stuckJobs.isEmpty && !Task.isCancelled { await Task.yield() }
        #expect(executor.stats.threads == 1)
        #expect(executor.stats.queued == 1)
        forever.open()
        #expect(await executor.shutdown(timeout: .seconds(30)) == [])
        #expect(executor.stats.completed == 2)
    }
}
