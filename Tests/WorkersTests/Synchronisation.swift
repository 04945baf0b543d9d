import Workers
import Foundation
import Synchronization

/// A gate worker threads block on until the test opens it. Only ever waited on from pool threads,
/// never from a task on the cooperative pool.
final class Gate: Sendable {
    private let condition = NSCondition()
    nonisolated(unsafe) private var isOpen = false

    /// Lets every waiter through, now and later.
    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling thread until the gate is open.
    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }
}

/// A counter tasks can await without blocking a thread: `wait(for:)` returns once it reaches a value,
/// or when the waiting task is cancelled (a test's time limit), so a broken pool fails a test instead
/// of hanging the run.
final class AsyncCounter: Sendable {
    private struct Waiter {
        let id: Int
        let target: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var count = 0
        var nextID = 0
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Adds one, from any thread, and wakes the waiters whose target is reached.
    func increment() {
        let ready = state.withLock { state in
            state.count += 1
            let count = state.count
            let ready = state.waiters.filter { $0.target <= count }.map(\.continuation)
            state.waiters.removeAll { $0.target <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// The current count.
    var value: Int { state.withLock { $0.count } }

    /// Returns once the count is at least `target`, or the task is cancelled.
    func wait(for target: Int) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.count >= target || Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: id, target: target, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state in
                let cancelled = state.waiters.filter { $0.id == id }.map(\.continuation)
                state.waiters.removeAll { $0.id == id }
                return cancelled
            }
            for continuation in cancelled { continuation.resume() }
        }
    }
}

/// A list any thread may append to.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    /// Appends `item`.
    func record(_ item: Element) {
        items.withLock { $0.append(item) }
    }

    /// Everything recorded so far, in order.
    var all: [Element] { items.withLock { $0 } }
}

/// A one-thread pool whose thread runs a job of `key` that blocks until the returned gate opens (the tests'
/// stand-in for an unbind the kernel never returns from); returns once that job started.
func poolWithABlockedJob(name: String, queueLimit: Int, maxExtraThreads: Int, stuckAfterSeconds: Double = 0.01,
                         key: String = "group-A", label: String) async throws -> (WorkerPool, Gate) {
    let pool = WorkerPool(name: name, threads: 1, queueLimit: queueLimit, stuckAfterSeconds: stuckAfterSeconds,
                          maxExtraThreads: maxExtraThreads)
    let forever = Gate()
    let started = AsyncCounter()
    try pool.submit(key: key, label: label) {
        started.increment()
        forever.wait()
    }
    await started.wait(for: 1)
    return (pool, forever)
}
