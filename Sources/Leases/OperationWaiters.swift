import Foundation
import Synchronization

/// Long-polls on operations: `wait` returns when the operation finishes or the deadline passes,
/// whichever is first, without polling the database.
final class OperationWaiters: Sendable {
    private let waiters = Mutex<[String: [WakeUp]]>([:])

    /// Wakes everyone waiting on `operationID`.
    func finished(_ operationID: String) {
        let woken = waiters.withLock { $0.removeValue(forKey: operationID) ?? [] }
        for wakeUp in woken { wakeUp.fire() }
    }

    /// Suspends until `finished(operationID)` or `seconds` pass. `isFinished` is checked after
    /// registering, so a finish between the caller's read and this call is not missed.
    func wait(for operationID: String, seconds: Double, isFinished: @escaping @Sendable () async -> Bool) async {
        guard seconds > 0 else { return }
        let wakeUp = WakeUp()
        waiters.withLock { $0[operationID, default: []].append(wakeUp) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wakeUp.wait() }
            group.addTask {
                if await isFinished() { return }
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            }
            await group.next()
            wakeUp.fire()
            group.cancelAll()
        }
        waiters.withLock { state in
            state[operationID]?.removeAll { $0 === wakeUp }
            if state[operationID]?.isEmpty == true { state[operationID] = nil }
        }
    }
}

/// A one-shot wake-up that may fire before or after someone waits on it.
final class WakeUp: Sendable {
    private let state = Mutex<(fired: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func fire() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.fired else { return nil }
            state.fired = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
