import Synchronization

/// Wakes the lease-expiry loop early when assignments change (a lease that just became active may
/// expire before the time it sleeps until). Counts changes, so that one made between reading the next
/// expiry and going to sleep is not missed.
final class ExpiryAlarm: Sendable {
    private struct State {
        var changes: UInt64 = 0
        var sleeper: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// Changes so far.
    var changes: UInt64 { state.withLock { $0.changes } }

    /// An assignment changed: wakes the sleeper, if any.
    func ring() {
        let sleeper = state.withLock { state in
            state.changes &+= 1
            defer { state.sleeper = nil }
            return state.sleeper
        }
        sleeper?.resume()
    }

    /// Sleeps until `seconds` have passed, a change after `seen` happens, or the task is cancelled.
    func sleep(seconds: Double, unlessChangedAfter seen: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000))) }
            group.addTask { await self.changed(after: seen) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once a change after `seen` happened, or the task is cancelled.
    private func changed(after seen: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.changes != seen || Task.isCancelled { return true }
                    state.sleeper = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                defer { state.sleeper = nil }
                return state.sleeper
            }
            sleeper?.resume()
        }
    }
}
