import Foundation
import VFIOCore

/// The threads held in `unbind` by an `unbindBlocks` fault, and the one lock fault-file edits take.
///
/// A blocked thread waits on a condition variable, re-reading the fault file every
/// ``pollInterval`` so that another process editing the file releases it too; an in-process release
/// broadcasts and wakes it at once. Only the blocked thread waits: nothing else is held meanwhile.
final class BlockedUnbinds: @unchecked Sendable {
    // @unchecked: `counts` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var counts: [PCIAddress: Int] = [:]

    /// How often a blocked thread re-reads the fault file.
    static let pollInterval: TimeInterval = 0.02

    /// Holds the calling thread while `stillBlocked()` is true (called with the lock held, once per wake-up).
    func hold(_ address: PCIAddress, while stillBlocked: () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        guard stillBlocked() else { return }
        counts[address, default: 0] += 1
        condition.broadcast()
        while stillBlocked() {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Self.pollInterval))
        }
        counts[address, default: 1] -= 1
        if counts[address] == 0 { counts[address] = nil }
        condition.broadcast()
    }

    /// Waits until at least one thread is held in `unbind` of `address`.
    func waitUntilHeld(_ address: PCIAddress) {
        condition.lock()
        defer { condition.unlock() }
        while counts[address, default: 0] == 0 { condition.wait() }
    }

    /// How many threads are held for `address` now.
    func heldCount(_ address: PCIAddress) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return counts[address, default: 0]
    }

    /// Runs `body` with the lock held (fault-file edits), then wakes every held thread to re-check.
    func editing<Result>(_ body: () throws(KernelError) -> Result) throws(KernelError) -> Result {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
