internal import Synchronization

/// Counts requests in flight and suspended connections, and lets shutdown wait for either to reach
/// zero (with a deadline) without polling.
final class RequestTracking: Sendable {
    /// What a waiter waits for.
    enum Condition: Sendable {
        /// No request between its URI and its completion.
        case noRequestsInFlight
        /// No connection suspended (or resumed but not yet back in an access-handler call).
        case noSuspendedConnections
    }

    private struct Waiter {
        let condition: Condition
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var inFlight = 0
        var suspended: [ObjectIdentifier: RequestState] = [:]
        var waiters: [Int: Waiter] = [:]
        var expired: Set<Int> = []
        var nextWaiter = 0

        func holds(_ condition: Condition) -> Bool {
            switch condition {
            case .noRequestsInFlight: return inFlight == 0
            case .noSuspendedConnections: return suspended.isEmpty
            }
        }

        /// Removes and returns the waiters whose condition now holds.
        mutating func satisfiedWaiters() -> [Waiter] {
            let ready = waiters.filter { holds($0.value.condition) }
            for key in ready.keys { waiters.removeValue(forKey: key) }
            return Array(ready.values)
        }
    }

    private let state = Mutex(State())

    /// Requests between their URI and their completion.
    var inFlight: Int { state.withLock { $0.inFlight } }

    func requestBegan() {
        state.withLock { $0.inFlight += 1 }
    }

    func requestEnded() {
        let ready = state.withLock { state in
            state.inFlight -= 1
            return state.satisfiedWaiters()
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    func suspended(_ request: RequestState) {
        state.withLock { $0.suspended[ObjectIdentifier(request)] = request }
    }

    func unsuspended(_ request: RequestState) {
        let ready = state.withLock { state in
            state.suspended.removeValue(forKey: ObjectIdentifier(request))
            return state.satisfiedWaiters()
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// The suspended requests right now.
    var suspendedRequests: [RequestState] { state.withLock { Array($0.suspended.values) } }

    /// Waits until `condition` holds (true) or `timeout` passes (false).
    func wait(until condition: Condition, timeout: Duration) async -> Bool {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        // The deadline resumes the waiter with false; it is a limit, not a synchronisation.
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { expire(id) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let verdict: Bool? = state.withLock { state in
                if state.holds(condition) { return true }
                if state.expired.remove(id) != nil { return false }
                state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                return nil
            }
            if let verdict { continuation.resume(returning: verdict) }
        }
    }

    private func expire(_ id: Int) {
        let waiter: Waiter? = state.withLock { state in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.expired.insert(id)
            return nil
        }
        waiter?.continuation.resume(returning: false)
    }
}
