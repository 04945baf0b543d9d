import Foundation
import ServiceLog
import Synchronization
import Workers

/// Operations stopped because the database refused their journal (a full disk, an I/O error), with the
/// journal rows they still have to write, until a write commits again.
///
/// One retry thread runs while any operation is paused: every `retrySeconds` it tries to write each paused
/// operation's pending rows; an operation whose rows commit (or that had none) is handed to `resume`.
final class PausedOperations: Sendable {
    /// How long the retry thread waits between tries.
    static let retrySeconds = 1.0

    private struct Entry: @unchecked Sendable {
        /// Only the retry thread touches it once paused.
        let journal: Journal?
        let reason: String
        /// Whether a retry has failed and been logged already (one line per pause, not one a second).
        var retryLogged = false
    }

    private let entries = Mutex<(paused: [String: Entry], retrying: Bool)>(([:], false))

    /// Why `operationID` is paused, or `nil` when it is not.
    func reason(_ operationID: String) -> String? {
        entries.withLock { $0.paused[operationID]?.reason }
    }

    /// Pauses `operationID` and starts the retry thread if none runs. `resume` gets each operation back,
    /// on the retry thread, once its rows committed.
    func pause(_ operationID: String, journal: Journal?, reason: String, resume: @escaping @Sendable (String) -> Void) {
        let start = entries.withLock { state -> Bool in
            state.paused[operationID] = Entry(journal: journal, reason: reason)
            defer { state.retrying = true }
            return !state.retrying
        }
        guard start else { return }
        do {
            try DedicatedThread.start(name: "journal-retry") { [self] in retryUntilEmpty(resume) }
        } catch {
            // Tried again with the next pause.
            entries.withLock { $0.retrying = false }
            Log.error("operations paused for the database stay paused: \(error)")
        }
    }

    private func retryUntilEmpty(_ resume: @Sendable (String) -> Void) {
        while true {
            // A retry period, not a synchronisation: the disk frees up on the operator's time.
            Thread.sleep(forTimeInterval: Self.retrySeconds)
            let paused = entries.withLock { state -> [(String, Entry)] in
                if state.paused.isEmpty { state.retrying = false }
                // Oldest first (ids are time-ordered), as the group's queue had them.
                return state.paused.sorted { $0.key < $1.key }
            }
            if paused.isEmpty { return }
            for (id, entry) in paused {
                do {
                    try entry.journal?.flush()
                } catch {
                    // Still refused: readiness and the operation's pausedReason say so; the log says it once.
                    if !entry.retryLogged {
                        Log.warning("operation \(id) still paused, its journal refused again: \(error)")
                        entries.withLock { $0.paused[id]?.retryLogged = true }
                    }
                    continue
                }
                entries.withLock { _ = $0.paused.removeValue(forKey: id) }
                resume(id)
            }
        }
    }
}
