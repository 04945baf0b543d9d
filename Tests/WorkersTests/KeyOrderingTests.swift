import Foundation
import Glibc
import Testing
@testable import Workers

@Suite(.timeLimit(.minutes(1))) struct KeyOrderingTests {
    private enum Event: Equatable, Sendable {
        case enter(Int)
        case exit(Int)
    }

    @Test func sameKeyJobsNeverOverlapAndKeepSubmissionOrder() async throws {
        let pool = WorkerPool(name: "order", threads: 4, queueLimit: 1_000, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let keys = ["group-1", "group-2", "group-3"]
        let recorders = keys.map { _ in Recorder<Event>() }
        let done = AsyncCounter()
        let perKey = 60
        for index in 0..<perKey {
            for (slot, key) in keys.enumerated() {
                let recorder = recorders[slot]
                try pool.submit(key: key) {
                    recorder.record(.enter(index))
                    // Give a second thread the chance to enter the same key if ordering were broken.
                    for _ in 0..<20 { sched_yield() }
                    recorder.record(.exit(index))
                    done.increment()
                }
            }
        }
        await done.wait(for: perKey * keys.count)
        let expected = (0..<perKey).flatMap { [Event.enter($0), .exit($0)] }
        for recorder in recorders {
            #expect(recorder.all == expected)
        }
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func differentKeysRunInParallel() async throws {
        let pool = WorkerPool(name: "parallel", threads: 2, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let firstStarted = Gate()
        let secondStarted = Gate()
        // Each job waits for the other to have started: they can only both finish if they overlap.
        async let first: String = pool.run(key: "group-1") {
            firstStarted.open()
            secondStarted.wait()
            return "first"
        }
        async let second: String = pool.run(key: "group-2") {
            secondStarted.open()
            firstStarted.wait()
            return "second"
        }
        #expect(try await [first, second] == ["first", "second"])
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func unkeyedJobsRunInParallel() async throws {
        let pool = WorkerPool(name: "unkeyed", threads: 2, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let firstStarted = Gate()
        let secondStarted = Gate()
        async let first: Int = pool.run(key: nil) {
            firstStarted.open()
            secondStarted.wait()
            return 1
        }
        async let second: Int = pool.run(key: nil) {
            secondStarted.open()
            firstStarted.wait()
            return 2
        }
        #expect(try await first + second == 3)
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func aKeyedJobWaitsBehindItsKeyWhileOtherKeysRun() async throws {
        let pool = WorkerPool(name: "behind", threads: 3, queueLimit: 10, stuckAfterSeconds: 60, maxExtraThreads: 0)
        let gate = Gate()
        let started = AsyncCounter()
        let secondRan = AsyncCounter()
        try pool.submit(key: "group-7", label: "bind group 7") {
            started.increment()
            gate.wait()
        }
        try pool.submit(key: "group-7") { secondRan.increment() }
        await started.wait(for: 1)
        // Two threads are free, yet the second group-7 job waits; another group's job runs meanwhile.
        #expect(try await pool.run(key: "group-8") { "other" } == "other")
        #expect(secondRan.value == 0)
        #expect(pool.waitingKeys == ["group-7": 1])
        #expect(pool.queueDepth == 1)
        #expect(pool.stats.busy >= 1)
        gate.open()
        await secondRan.wait(for: 1)
        #expect(await pool.shutdown(timeout: .seconds(30)) == [])
    }

    @Test func stateReleasesTheNextJobOfAKeyOnlyWhenTheOneAheadFinishes() throws {
        var state = PoolState(baseThreads: 2, queueLimit: 10, stuckAfterNanoseconds: 1, maxExtraThreads: 0)
        func job(_ key: String?, _ label: String) -> Job { Job(key: key, label: label, work: {}, discard: nil) }
        try state.enqueue(job("a", "a1"))
        try state.enqueue(job("a", "a2"))
        try state.enqueue(job("b", "b1"))
        try state.enqueue(job(nil, "free"))
        #expect(state.waitingByKey == ["a": 2, "b": 1])
        let taken = state.take()
        let a1 = try #require(taken)
        #expect(a1.label == "a1")
        #expect(state.take()?.label == "b1")
        #expect(state.take()?.label == "free")
        #expect(state.take() == nil)
        #expect(state.queued == 1)
        state.finish(a1)
        #expect(state.take()?.label == "a2")
        #expect(state.queued == 0)
        #expect(state.waitingByKey.isEmpty)
    }
}
