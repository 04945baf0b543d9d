import Foundation
import Synchronization
import ServiceLog

/// Long-polls on operations: `wait` returns when the operation finishes or the deadline passes,
/// whichever is first, without polling the database.
///
/// Every path that ends an operation in this process calls `finished(_:)` after the end committed; the
/// ids it saw last are remembered, so a waiter that registers just after the finish still learns of it.
final class OperationWaiters: Sendable {
    private let waiters = Mutex<[String: [WakeUp]]>([:])
    private let recent = Mutex(RecentIDs(capacity: 16384))
    /// Operations whose end may be committed while what they did is still being published.
    private let unpublished = Mutex<Set<String>>([])
    /// Operations handed to a worker (their rows committed) and not finished or changed since, with their
    /// assignment's tenant: a long-poll on one knows without reading the store that it exists, is
    /// unfinished and whom it is shown to.
    private let queued = Mutex<[String: String]>([:])
    /// The long-polls' deadlines, on one timer.
    let deadlines = Deadlines()

    /// Marks `operationID` as about to commit its end before publishing what it did: readers wait for
    /// `finished(_:)`. A finish recorded earlier no longer counts (the operation is held back again).
    func publishing(_ operationID: String) {
        _ = unpublished.withLock { $0.insert(operationID) }
        recent.withLock { $0.remove(operationID) }
    }

    /// Whether `operationID`'s end may be committed but not yet published.
    func isPublishing(_ operationID: String) -> Bool {
        unpublished.withLock { $0.contains(operationID) }
    }

    /// How many wait on `operationID` now (tests).
    func waitingCount(for operationID: String) -> Int {
        waiters.withLock { $0[operationID]?.count ?? 0 }
    }

    /// Notes that `operationID`, committed, is about to be handed to a worker; call `finished` or
    /// `changed` when that fails.
    func queuing(_ operationID: String, tenant: String) {
        queued.withLock { $0[operationID] = tenant }
    }

    /// The tenant of `operationID` while it is queued or running here (unfinished); nil when unknown.
    func queuedTenant(_ operationID: String) -> String? {
        queued.withLock { $0[operationID] }
    }

    /// Wakes everyone waiting on `operationID`.
    func finished(_ operationID: String) {
        recent.withLock { $0.insert(operationID) }
        _ = queued.withLock { $0.removeValue(forKey: operationID) }
        _ = unpublished.withLock { $0.remove(operationID) }
        let woken = waiters.withLock { $0.removeValue(forKey: operationID) ?? [] }
        Trace.mark(operationID, "woken")
        for wakeUp in woken { wakeUp.fire() }
    }

    /// Wakes everyone waiting on `operationID` now, without counting it finished: it changed (it paused),
    /// and a long-poll returns what it is now. An end marked as publishing was not committed after all
    /// (the pause came at its commit): readers stop waiting for its publish.
    func changed(_ operationID: String) {
        _ = queued.withLock { $0.removeValue(forKey: operationID) }
        _ = unpublished.withLock { $0.remove(operationID) }
        let woken = waiters.withLock { $0.removeValue(forKey: operationID) ?? [] }
        for wakeUp in woken { wakeUp.fire() }
    }

    /// Whether `finished(operationID)` was called lately (among the last 16,384 finishes).
    func hasFinished(_ operationID: String) -> Bool {
        recent.withLock { $0.contains(operationID) }
    }

    /// Suspends until `finished(operationID)` or `seconds` pass. A finish between the caller's read and
    /// this call is not missed: it was remembered (checked after registering).
    func wait(for operationID: String, seconds: Double) async {
        guard seconds > 0 else { return }
        let wakeUp = WakeUp()
        waiters.withLock { $0[operationID, default: []].append(wakeUp) }
        if hasFinished(operationID) {
            unregister(wakeUp, from: operationID)
            return
        }
        // The deadline is on the shared timer rather than a sleeping child task: a long-poll costs one
        // continuation, and a cancelled request ends its wait at once.
        deadlines.schedule(wakeUp, at: .now() + seconds)
        await withTaskCancellationHandler {
            await wakeUp.wait()
        } onCancel: {
            wakeUp.fire()
        }
        unregister(wakeUp, from: operationID)
    }

    private func unregister(_ wakeUp: WakeUp, from operationID: String) {
        waiters.withLock { state in
            state[operationID]?.removeAll { $0 === wakeUp }
            if state[operationID]?.isEmpty == true { state[operationID] = nil }
        }
    }
}

/// The last `capacity` ids inserted, for membership tests.
struct RecentIDs {
    private var ids: Set<String> = []
    private var order: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    mutating func insert(_ id: String) {
        guard !ids.contains(id) else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            ids.remove(order[next])
            order[next] = id
            next = (next + 1) % capacity
        }
        ids.insert(id)
    }

    /// Forgets `id`. Its slot in the ring stays until reused: should `id` be inserted again meanwhile, that
    /// older slot's turn forgets it early (at worst a later long-poll waits out its deadline).
    mutating func remove(_ id: String) { ids.remove(id) }

    func contains(_ id: String) -> Bool { ids.contains(id) }
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
