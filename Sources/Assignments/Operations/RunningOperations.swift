import Foundation
import Synchronization

/// The operations a worker of this process runs now, with when each started. An operation commits
/// `running` with its end (or just before its first kernel write, when recovery must know it began:
/// ``AssignmentService/commitsRunningFirst(_:_:)``), so the database may still say `queued` while its
/// writes are made; readers are shown `running` from here meanwhile. A paused operation stays here until
/// it is resolved.
final class RunningOperations: Sendable {
    private let started = Mutex<[String: Date]>([:])

    /// `id` started now, at `date`.
    func start(_ id: String, at date: Date) {
        started.withLock { $0[id] = date }
    }

    /// `id` ended (its end committed) or stopped.
    func end(_ id: String) {
        _ = started.withLock { $0.removeValue(forKey: id) }
    }

    /// `operation` as readers see it: `running` since its start when the database still says `queued`
    /// and a worker runs it.
    func shown(_ operation: GroupOperation) -> GroupOperation {
        guard operation.state == .queued, let date = started.withLock({ $0[operation.id] }) else { return operation }
        var shown = operation
        shown.state = .running
        shown.startedAt = date
        return shown
    }
}
