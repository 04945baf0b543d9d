import Foundation

/// Counts what the writer finished (batches and exclusive calls) and lets a thread sleep until the
/// next one: the WAL checkpointer waits here instead of waking on a timer when nothing was written.
final class CommitSignal: @unchecked Sendable {
    // @unchecked: `count` and `waiters` are guarded by `condition`.
    private let condition = NSCondition()
    private var count: UInt64 = 0
    private var waiters = 0

    /// How many writes have finished so far.
    var current: UInt64 { condition.withLock { count } }

    /// A write finished: wakes whoever waits. One lock, and a signal only when somebody waits.
    func note() {
        condition.lock()
        count &+= 1
        if waiters > 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Sleeps until a write finished after the count `seen`, or `stopped()` holds (checked under the lock
    /// ``wakeAll()`` takes, so a stop is never missed). Returns the count then.
    func wait(after seen: UInt64, unless stopped: () -> Bool) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        while count == seen && !stopped() {
            waiters += 1
            condition.wait()
            waiters -= 1
        }
        return count
    }

    /// Wakes every waiter to look at its `stopped` condition again.
    func wakeAll() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
