import Foundation
import ServiceLog
import Store
import VFIOCore

extension AssignmentService {
    /// Pauses an operation whose journal the database refused; it resumes by itself once a write commits.
    func park(_ operationID: String, journal: Journal?) {
        let reason = "the database cannot be written (\(database.writeFault.map { $0.isStorageFull ? "its file system is full" : $0.message } ?? "a write failed")); "
            + "the operation resumes once a write commits"
        defer { waiters.changed(operationID) }
        paused.pause(operationID, journal: journal, reason: reason) { [self] id in
            guard let (operation, assignment) = try? load(id) else { return park(id, journal: nil) }
            do {
                try workers.submit(key: "group-\(assignment.groupID)", label: "resume \(operation.kind.rawValue) \(id)") { [self] in
                    resume(id)
                }
            } catch {
                park(id, journal: nil)
            }
        }
    }

    /// Finishes a paused operation the way recovery finishes an interrupted one: from the kernel's state,
    /// forward (every device got where it was going) or back. On a worker thread.
    private func resume(_ operationID: String) {
        var journal: Journal?
        do {
            guard let (operation, assignment) = try load(operationID) else {
                running.end(operationID)
                return waiters.finished(operationID)
            }
            if !operation.state.isFinished {
                var report = RecoveryReport()
                let resolving = Journal(database: database, operation: operation, assignment: assignment, actor: "system", now: now, onSteps: stepObserver)
                journal = resolving
                try resolveInterrupted(operation, &report, cause: "the database refused its journal", journal: resolving)
            }
            if let (_, assignment) = try load(operationID) {
                published(assignment)
                inventory.refreshDevices(assignment.devices.compactMap { PCIAddress($0.address) })
            }
            Log.info("operation \(operationID) resumed after the database took writes again")
            running.end(operationID)
            waiters.finished(operationID)
        } catch let error as DatabaseError where error.isStorageFault {
            park(operationID, journal: journal)
        } catch let unwritable as Journal.Unwritable {
            // The rows of kernel writes already made stay with the journal, for the next try.
            Log.warning("operation \(operationID) still paused: \(unwritable)")
            park(operationID, journal: journal)
        } catch {
            Log.error("operation \(operationID) could not be resumed: \(error); recovery takes it up on the next start")
            running.end(operationID)
            waiters.finished(operationID)
        }
    }
}
