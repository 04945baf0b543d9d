import Foundation
import Store
import VFIOCore

/// How an interrupted bind or release ends: the assignment as it is left, the operation's final state,
/// and what failed on the way.
private struct Resolution {
    var assignment: Assignment
    var outcome: OperationState = .completedOnRecovery
    var failure: String?
}

extension AssignmentService {
    /// Finishes an operation that stopped half-way (vfiod died, or the journal could not be written) from
    /// the kernel's state: forward where every device got there, back otherwise; journaled and audited.
    /// `cause` says what stopped it, in the audit and the assignment's failure.
    /// `journal`: the one to record in (a paused operation's resume passes its own, so that a refusal keeps
    /// its rows); throws `Journal.Unwritable` when the journal is refused again.
    func resolveInterrupted(_ operation: GroupOperation, _ report: inout RecoveryReport, cause: String = "vfiod stopped",
                            journal given: Journal? = nil) throws {
        guard let (_, assignment) = try load(operation.id) else { return }
        try database.write { connection in
            try Audit.operation("operation.interrupted", operation, assignment: assignment, caller: .system,
                                error: "\(cause) during \(operation.kind.rawValue) \(operation.id)", in: connection)
        }
        if operation.kind == .reset || operation.kind == .restore {
            try resolveInterruptedDeviceOperation(operation, assignment, cause: cause)
            report.rolledBack.append(operation.id)
            return
        }
        let journal = given ?? Journal(database: database, operation: operation, assignment: assignment, actor: "system", now: now, onSteps: stepObserver)
        var start = assignment
        start.devices = Self.originalDrivers(of: assignment.devices, recordedIn: operation)
        let resolution: Resolution
        if operation.kind == .bind && assignment.state == .binding {
            resolution = try resolveBind(start, journal: journal, cause: cause)
        } else {
            // A release, or a bind whose lease was meanwhile asked to release: finish giving it back.
            resolution = try resolveRelease(operation, start, journal: journal, cause: cause)
        }
        try commit(resolution, of: operation, from: assignment, journal: journal)
        if resolution.outcome == .rolledBack { report.rolledBack.append(operation.id) } else { report.completed.append(operation.id) }
        // A release queued behind the interrupted bind runs next, as `recover()` walks the queue in order.
    }

    /// The drivers each endpoint had before the bind: the first step that recorded one wins.
    static func originalDrivers(of devices: [AssignmentDevice], recordedIn operation: GroupOperation) -> [AssignmentDevice] {
        devices.map { device in
            var device = device
            if let recorded = operation.steps.first(where: { $0.device == device.address && $0.originalDriver != nil }) {
                device.originalDriver = recorded.originalDriver
            }
            return device
        }
    }

    /// A bind whose endpoints all reached vfio-pci (and whose group node exists) is completed; any other
    /// is rolled back.
    private func resolveBind(_ assignment: Assignment, journal: Journal, cause: String) throws -> Resolution {
        var resolution = Resolution(assignment: assignment)
        let allBound = assignment.endpoints.allSatisfy { device in
            PCIAddress(device.address).map { kernel.driver(of: $0) == GroupBinder.vfio } ?? false
        } && kernel.groupDeviceExists(assignment.groupID)
        if allBound {
            resolution.assignment.state = .active
            resolution.assignment.devicePaths = devicePaths(assignment)
            return resolution
        }
        do {
            try GroupBinder(kernel: kernel).restore(assignment.devices, journal: journal)
        } catch let unwritable as Journal.Unwritable {
            throw unwritable
        } catch {
            resolution.failure = "\(error)"
        }
        resolution.assignment.state = .failed
        resolution.assignment.failure = "\(cause) during the bind; it was rolled back" + (resolution.failure.map { " (restore: \($0))" } ?? "")
        resolution.outcome = .rolledBack
        return resolution
    }

    /// A release gives the devices back — unless it promised a reset that never finished: then they must not
    /// go back to the host unreset, and are quarantined on vfio-pci.
    private func resolveRelease(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal,
                                cause: String) throws -> Resolution {
        var resolution = Resolution(assignment: assignment)
        guard assignment.state == .releasing else { return resolution }
        let resetDone = operation.steps.contains { $0.action == "verify_responds" && $0.state == .done }
        if assignment.resetOnRelease && operation.kind == .release && !resetDone {
            let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
            let failure = "\(cause) before the reset on release finished"
            try journal.flush()
            try quarantine(endpoints, reason: failure, assignment: assignment, operation: operation)
            resolution.failure = failure
            resolution.assignment.state = .released
            resolution.assignment.devicePaths = []
            resolution.assignment.failure = failure + "; quarantined: " + endpoints.map(\.description).joined(separator: ", ")
            return resolution
        }
        do {
            // A device quarantined during the lease stays on vfio-pci until an admin clears it.
            let restorable = assignment.devices.filter { quarantines.entry($0.address) == nil }
            try GroupBinder(kernel: kernel).restore(restorable, journal: journal)
            resolution.assignment.state = .released
            resolution.assignment.devicePaths = []
        } catch let unwritable as Journal.Unwritable {
            throw unwritable
        } catch {
            resolution.failure = "\(error)"
            resolution.assignment.failure = "restore failed: \(error)"
        }
        return resolution
    }

    /// Commits the operation's end, the assignment and their audit rows with the journal's pending rows.
    private func commit(_ resolution: Resolution, of operation: GroupOperation, from before: Assignment, journal: Journal) throws {
        let at = now()
        var final = resolution.assignment
        final.generation += 1
        final.updatedAt = at
        let frozen = final
        let (outcome, failure) = (resolution.outcome, resolution.failure)
        try journal.commit { connection in
            try OperationRecords.setState(operation.id, failure != nil && outcome == .completedOnRecovery ? .failed : outcome,
                                          error: failure, at: at, in: connection)
            try AssignmentRecords.update(frozen, in: connection)
            try Audit.operation("operation.\(outcome.rawValue)", operation, assignment: frozen, caller: .system,
                                error: failure, in: connection)
            if frozen.state != before.state {
                try Audit.assignment("assignment.\(frozen.state.rawValue)", frozen, caller: .system, before: before.state,
                                     detail: "recovered after an interrupted \(operation.kind.rawValue)", in: connection)
            }
        }
    }
}
