import Foundation
import Testing
@testable import Leases

/// Long-polls end when their operation finishes, also when it finished just before they registered.
struct OperationWaitersTests {
    /// Runs `wait` against a generous deadline: `true` when the wait ended first (a deadlock detector,
    /// not a timing claim).
    private func endsBeforeDeadline(_ wait: @escaping @Sendable () async -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await wait(); return true }
            group.addTask { try? await Task.sleep(for: .seconds(60)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

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
