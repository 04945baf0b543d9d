import Foundation
import Synchronization

/// Wakes the lease-expiry loop early when a lease becomes due before the loop means to wake (a lease that
/// just became active, or was renewed, may expire before the time the loop sleeps until). Any other change
/// leaves it asleep: under lease churn the loop reads the database when a lease falls due, not after every
/// change. Changes are counted with the earliest expiry among them, so that one made between reading the
/// next expiry and going to sleep is not missed.
final class ExpiryAlarm: Sendable {
    private struct State {
        var changes: UInt64 = 0
        /// The earliest expiry among the changes since the loop last looked (``look()``).
        var earliest: Date?
        var sleeper: CheckedContinuation<Void, Never>?
        /// When the sleeping loop wakes by itself.
        var wakeAt: Date?
    }
    private let state = Mutex(State())

    /// Whether the loop sleeps on the alarm now (tests).
    var isSleeping: Bool { state.withLock { $0.sleeper != nil } }

    /// The loop is about to read the database: returns the changes so far and forgets their expiries (the
    /// read sees them).
    func look() -> UInt64 {
        state.withLock { state in
            state.earliest = nil
            return state.changes
        }
    }

    /// An assignment changed; `expiresAt` is its expiry when it is an active lease (nil: nothing about it can
    /// fall due). Wakes the sleeper when that is before the time it wakes by itself; returns whether it did.
    @discardableResult
    func ring(expiresAt: Date?) -> Bool {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let expiresAt else { return nil }
            state.changes &+= 1
            state.earliest = min(state.earliest ?? expiresAt, expiresAt)
            guard let wakeAt = state.wakeAt, expiresAt < wakeAt else { return nil }
            defer { state.sleeper = nil }
            return state.sleeper
        }
        sleeper?.resume()
        return sleeper != nil
    }

    /// Sleeps until `seconds` have passed, a change after `seen` falls due before then, or the task is
    /// cancelled. `now` is the wall clock the expiries are compared with.
    func sleep(seconds: Double, unlessChangedAfter seen: UInt64, now: Date) async {
        let wakeAt = now.addingTimeInterval(max(0, seconds))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000))) }
            group.addTask { await self.changed(after: seen, before: wakeAt) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once a change after `seen` falls due before `wakeAt`, or the task is cancelled.
    private func changed(after seen: UInt64, before wakeAt: Date) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if state.changes != seen, let earliest = state.earliest, earliest < wakeAt { return true }
                    state.sleeper = continuation
                    state.wakeAt = wakeAt
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                defer { state.sleeper = nil; state.wakeAt = nil }
                return state.sleeper
            }
            sleeper?.resume()
        }
    }
}
