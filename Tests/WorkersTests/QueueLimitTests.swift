import Testing
import Workers

@Suite(.timeLimit(.minutes(1))) struct QueueLimitTests {
    @Test func aFullQueueRefusesTheNextJobAndLosesNothing() async throws {
        let pool = WorkerPool(name: "full", threads: 1, queueLimit: 3, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let gate = Gate()
        let started = AsyncCounter()
        let done = AsyncCounter()
        let ran = Recorder<Int>()
        try pool.submit(key: "group-1") {
            started.increment()
            gate.wait()
            ran.record(0)
            done.increment()
        }
        await started.wait(for: 1)
        for id in 1...3 {
            try pool.submit(key: id == 2 ? nil : "group-\(id)") {
                ran.record(id)
                done.increment()
            }
        }
        #expect(throws: WorkerPoolError.queueFull) {
            try pool.submit(key: "group-9") { ran.record(99) }
        }
        await #expect(throws: WorkerPoolError.queueFull) {
            try await pool.run(key: nil) { ran.record(98) }
        }
        #expect(pool.stats.queued == 3)
        #expect(pool.stats.queueLimit == 3)
        #expect(pool.stats.rejected == 2)
        gate.open()
        await done.wait(for: 4)
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
        #expect(ran.all.sorted() == [0, 1, 2, 3])
    }

    @Test func everyAcceptedJobRunsExactlyOnceUnderContention() async throws {
        let pool = WorkerPool(name: "contend", threads: 2, queueLimit: 5, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let runs = Recorder<Int>()
        let submitters = 4
        let perSubmitter = 300
        let outcomes = await withTaskGroup(of: (accepted: [Int], rejected: Int).self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    var accepted: [Int] = []
                    var rejected = 0
                    for index in 0..<perSubmitter {
                        let id = submitter * perSubmitter + index
                        do throws(WorkerPoolError) {
                            try pool.submit(key: id % 4 == 0 ? nil : "group-\(id % 3)") {
                                runs.record(id)
                            }
                            accepted.append(id)
                        } catch {
                            #expect(error == .queueFull)
                            rejected += 1
                        }
                    }
                    return (accepted, rejected)
                }
            }
            return await group.reduce(into: [(accepted: [Int], rejected: Int)]()) { $0.append($1) }
        }
        let accepted = Set(outcomes.flatMap(\.accepted))
        let rejected = outcomes.map(\.rejected).reduce(0, +)
        // Shutdown lets every queued job run before the threads exit.
        #expect(await pool.shutdown(timeout: .seconds(50)) == [])
        let counts = Dictionary(runs.all.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(accepted.count + rejected == submitters * perSubmitter)
        #expect(pool.stats.rejected == rejected)
        #expect(Set(counts.keys) == accepted)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(pool.stats.completed == accepted.count)
    }
}
