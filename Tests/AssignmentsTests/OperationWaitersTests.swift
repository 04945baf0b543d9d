import Foundation
import Synchronization
import Testing
@testable import Assignments

/// Long-polls end when their operation finishes, also when it finished just before they registered.
struct OperationWaitersTests {
    @Test func aWaitRegisteredAfterTheFinishEndsAtOnce() async {
        let waiters = OperationWaiters()
        waiters.finished("op_early")
        #expect(waiters.hasFinished("op_early"))
        #expect(!waiters.hasFinished("op_other"))
        #expect(await endsBeforeDeadline { await waiters.wait(for: "op_early", seconds: 3600) })
    }

    @Test func aWaitEndsWhenItsOperationFinishes() async {
        let waiters = OperationWaiters()
        let ended = await endsBeforeDeadline {
            async let waiting: Void = waiters.wait(for: "op_late", seconds: 3600)
            // Finish once the waiter is registered or not: either way the wait must end.
            waiters.finished("op_late")
            await waiting
        }
        #expect(ended)
    }

    /// A pause wakes the long-polls waiting then, without counting the operation finished: a long-poll
    /// that comes later waits again.
    @Test func aChangeWakesTheWaitersButIsNotAFinish() async {
        let waiters = OperationWaiters()
        // The pause came as the operation's end was being committed: that end never was.
        waiters.publishing("op_paused")
        let ended = await endsBeforeDeadline {
            async let waiting: Void = waiters.wait(for: "op_paused", seconds: 3600)
            while waiters.waitingCount(for: "op_paused") == 0 { await Task.yield() }
            waiters.changed("op_paused")
            await waiting
        }
        #expect(ended)
        #expect(!waiters.hasFinished("op_paused"))
        #expect(!waiters.isPublishing("op_paused"), "readers do not wait for a publish that will not come")
        #expect(waiters.waitingCount(for: "op_paused") == 0)
    }

    @Test func aWaitEndsAtItsDeadlineWhateverTheOrderOfDeadlines() async {
        let waiters = OperationWaiters()
        // A long deadline arms the timer first; shorter ones that come later must re-arm it.
        async let long: Void = waiters.wait(for: "op_long", seconds: 3600)
        let ended = await endsBeforeDeadline {
            await withTaskGroup(of: Void.self) { group in
                for (index, seconds) in [0.3, 0.1, 0.2, 0.05].enumerated() {
                    group.addTask { await waiters.wait(for: "op_short_\(index)", seconds: seconds) }
                }
            }
        }
        #expect(ended)
        // The long-poll still waits (its deadline is pending), and ends when its operation finishes.
        #expect(!waiters.hasFinished("op_long"))
        waiters.finished("op_long")
        await long
        #expect(waiters.deadlines.count == 1)
    }

    @Test func theDeadlineHeapGivesValuesBackEarliestFirst() {
        var heap = DeadlineHeap<Int>()
        var generator = SystemRandomNumberGenerator()
        let offsets = (0..<1000).map { _ in UInt64.random(in: 0..<10_000, using: &generator) }
        for offset in offsets { heap.push(Int(offset), at: DispatchTime(uptimeNanoseconds: 1_000 + offset)) }
        var popped: [Int] = []
        while heap.count > 0 { popped.append(heap.popFirst()) }
        #expect(popped == offsets.map(Int.init).sorted())
    }

    @Test func everyScheduledWakeUpFires() async {
        let deadlines = Deadlines()
        let fired = OrderRecorder()
        let start = DispatchTime.now()
        let ended = await endsBeforeDeadline {
            await withTaskGroup(of: Void.self) { group in
                for milliseconds in [90, 10, 50, 30, 70, 20, 80, 40, 60] {
                    let wakeUp = WakeUp()
                    deadlines.schedule(wakeUp, at: start + .milliseconds(milliseconds))
                    group.addTask { await wakeUp.wait(); fired.append(milliseconds) }
                }
            }
        }
        #expect(ended)
        #expect(fired.values.sorted() == [10, 20, 30, 40, 50, 60, 70, 80, 90])
        #expect(deadlines.count == 0)
    }

    @Test func theRecordOfFinishedOperationsKeepsTheNewest() {
        var recent = RecentIDs(capacity: 3)
        for id in ["a", "b", "c", "d"] { recent.insert(id) }
        #expect(!recent.contains("a"))
        #expect(recent.contains("b") && recent.contains("c") && recent.contains("d"))
        recent.insert("d")
        recent.insert("e")
        #expect(!recent.contains("b") && recent.contains("e") && recent.contains("d"))
    }
}

/// Values appended from several tasks.
final class OrderRecorder: Sendable {
    private let storage = Mutex<[Int]>([])
    func append(_ value: Int) { storage.withLock { $0.append(value) } }
    var values: [Int] { storage.withLock { $0 } }
}
