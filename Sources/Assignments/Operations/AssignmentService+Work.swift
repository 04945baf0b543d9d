import ServiceLog
import Foundation
import Store
import VFIOCore

extension AssignmentService {
    /// Queues an operation on the worker pool, serialised with every other operation on its group.
    /// `first`, when given, runs on the worker just before the operation (a release's first look for openers).
    func submit(_ operation: GroupOperation, for assignment: Assignment, first: (@Sendable () -> Void)? = nil) throws {
        // Noted before the worker can finish it (which forgets it); forgotten again if it is not taken.
        waiters.queuing(operation.id, tenant: assignment.holder.tenant)
        do {
            try workers.submit(key: "group-\(assignment.groupID)", label: "\(operation.kind.rawValue) \(operation.id)") { [self] in
                first?()
                run(operationID: operation.id)
            }
        } catch {
            waiters.changed(operation.id)
            throw error
        }
    }

    /// Runs one operation to its end. On a worker thread: may block in the kernel.
    func run(operationID: String) {
        Trace.mark(operationID, "worker")
        var journal: Journal?
        do {
            guard let (operation, assignment) = try load(operationID), !operation.state.isFinished else {
                return waiters.finished(operationID)
            }
            let started = Journal(database: database, operation: operation, assignment: assignment,
                                  actor: operation.actor, now: now, onSteps: stepObserver)
            journal = started
            markRunning(operation, assignment, journal: started)
            if Self.commitsRunningFirst(operation, assignment) { try started.flush() }
            switch operation.kind {
            case .bind: try runBind(operation, assignment, journal: started)
            case .release: try runRelease(operation, assignment, journal: started)
            case .reset: try runReset(operation, assignment, journal: started)
            case .restore: try runRestore(operation, assignment, journal: started)
            }
        } catch let unwritable as Journal.Unwritable {
            // Stopped before its next kernel write, every device on a driver: resolved from the kernel's
            // state (forward or back, as recovery does) once the database takes writes again.
            Log.warning("operation \(operationID) paused: \(unwritable); it resumes once a write commits")
            return park(operationID, journal: journal)
        } catch let fault as DatabaseError where fault.isStorageFault {
            // A write outside the journal (a quarantine) refused the same way: the same pause.
            Log.warning("operation \(operationID) paused: \(fault); it resumes once a write commits")
            return park(operationID, journal: journal)
        } catch {
            // The database refused the journal for good: the operation stays unfinished and recovery
            // takes it up on the next start. Say so loudly rather than guess.
            Log.error("operation \(operationID) stopped: \(error)")
        }
        running.end(operationID)
        waiters.finished(operationID)
    }

    /// Whether `operation` commits `running` before its first kernel write. A reset's outcome, and whether a
    /// restore of a quarantined device began, are not in the kernel's state: recovery must know such an
    /// operation started. A bind or a plain release needs no commit: the kernel's state says how far it got
    /// (``AssignmentService/hasBegun(_:_:)``).
    static func commitsRunningFirst(_ operation: GroupOperation, _ assignment: Assignment) -> Bool {
        switch operation.kind {
        case .reset, .restore: true
        case .release: assignment.resetOnRelease && assignment.state == .releasing
        case .bind: false
        }
    }

    /// Publishes the assignment's new state, in memory and in the inventory (rescanned). Readers of the
    /// operation wait for this (``OperationWaiters/isPublishing(_:)``): whoever sees it finished also sees
    /// what it did. The operation's last steps, when held (``HeldSteps``), go out with the inventory's
    /// events, and at the latest here.
    private func publish(_ assignment: Assignment) {
        published(assignment)
        inventory.refreshDevices(assignment.devices.compactMap { PCIAddress($0.address) })
        heldSteps?.release()
    }

    /// The operation and its assignment as last committed (the read-only connection: an operation is
    /// committed before it is queued).
    func load(_ operationID: String) throws -> (GroupOperation, Assignment)? {
        try database.read { connection in
            guard let operation = try OperationRecords.get(operationID, in: connection),
                  let assignment = try AssignmentRecords.get(operation.assignmentID, in: connection) else { return nil }
            return (operation, assignment)
        }
    }

    /// Marks the operation running: at once for readers (``RunningOperations``), in the database with the
    /// journal's next transaction (a commit before its first write, or its end). The state `running` and
    /// the `operation.running` audit row are written only when that transaction does not also end it:
    /// otherwise the end, committed at the same instant, records the start itself (`started_at`, and
    /// `startedAt` in its audit row).
    private func markRunning(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) {
        let at = now()
        running.start(operation.id, at: at)
        let caller = caller(of: operation)
        journal.recordStart(at: at) { connection, apart in
            guard apart else { return }
            try OperationRecords.setState(operation.id, .running, at: at, in: connection)
            try Audit.operation("operation.running", operation, assignment: assignment, caller: caller,
                                error: nil, at: at, in: connection)
        }
    }

    private func runBind(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws {
        let plan = try confirmPlan(operation, assignment, journal: journal)
        let result = Result { try GroupBinder(kernel: kernel).bind(plan, journal: journal) }
        // The paths come from sysfs, read here: the body below runs on the database's committer.
        let paths = (try? result.get()).map { devices -> [String] in
            var bound = assignment
            bound.devices = devices
            return devicePaths(bound)
        } ?? []
        try finish(operation, assignment, journal: journal, error: result.errorText) { current in
            switch result {
            case .success(let devices):
                current.devices = devices
                current.devicePaths = paths
                if current.state == .binding { current.state = .active }
            case .failure(let error):
                current.failure = "bind failed and was undone: \(error)"
                if current.state == .binding || current.state == .releasing { current.state = .failed }
            }
            return current.devicePaths.joined(separator: " ")
        }
    }

    private func runRelease(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws {
        var result: Result<Void, Error> = .success(())
        var quarantined: [PCIAddress] = []
        if assignment.state == .releasing {
            if assignment.resetOnRelease, let failure = try resetBeforeRestore(operation, assignment, journal: journal) {
                result = .failure(Journal.StepFailure(action: "reset", device: nil, reason: failure))
                quarantined = assignment.endpoints.compactMap { PCIAddress($0.address) }
                try journal.flush()
                try quarantine(quarantined, reason: "reset on release failed: \(failure)", assignment: assignment, operation: operation)
            } else {
                // A device quarantined during the lease stays on vfio-pci until an admin clears it.
                let restorable = assignment.devices.filter { quarantines.entry($0.address) == nil }
                // The reset's outcome is in no kernel state: committed before the restore's first write.
                if assignment.resetOnRelease { try journal.flush() }
                result = Result { try GroupBinder(kernel: kernel).restore(restorable, journal: journal) }
                if case .failure(let error) = result {
                    quarantined = assignment.endpoints.filter { device in
                        PCIAddress(device.address).map { kernel.driver(of: $0) != device.originalDriver } ?? false
                    }.compactMap { PCIAddress($0.address) }
                    try journal.flush()
                    try quarantine(quarantined, reason: "restore failed: \(error)", assignment: assignment, operation: operation)
                }
            }
        }
        stuck.remove(operation.id)
        let detail = finalObservation(operation, assignment)
        try finish(operation, assignment, journal: journal, error: result.errorText, detail: detail) { current in
            switch result {
            case .success:
                if current.state == .releasing {
                    current.state = .released
                    current.devicePaths = []
                }
            case .failure(let error):
                if current.state == .releasing {
                    current.state = .released
                    current.devicePaths = []
                }
                current.failure = "\(error); quarantined: "
                    + (quarantined.isEmpty ? "none" : quarantined.map(\.description).joined(separator: ", "))
            }
            return current.releaseReason
        }
    }

    /// Applies an operation's outcome to its assignment (read again inside the transaction: a release
    /// may have been asked for meanwhile) and records the operation's end, with the journal's pending rows,
    /// in one transaction; audits a state change; then publishes. `apply` changes the assignment and
    /// returns the audit detail. Until the publish is done (``run(operationID:)`` ends it), readers of the
    /// operation wait.
    private func finish(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal, error: String?,
                        detail: OperationDetail? = nil, apply: (inout Assignment) -> String?) throws {
        let at = now()
        waiters.publishing(operation.id)
        let updated = try journal.commit(endingOperation: true, announcingStepsTo: heldSteps?.hold) { connection -> Assignment in
            guard var current = try AssignmentRecords.get(assignment.id, in: connection) else { throw AssignmentError.notFound(assignment.id) }
            let before = current.state
            let change = apply(&current)
            current.generation += 1
            current.updatedAt = at
            try AssignmentRecords.update(current, in: connection)
            if current.state != before {
                try Audit.assignment("assignment.\(current.state.rawValue)", current, caller: caller(of: operation),
                                     before: before, detail: change, in: connection)
            }
            try recordEnd(operation, current, error: error, detail: detail, startedAt: journal.startedAt, at: at, in: connection)
            return current
        }
        Trace.mark(operation.id, "end-committed")
        publish(updated)
        Trace.mark(operation.id, "published")
    }

    /// `/dev/vfio/<group>`, then each endpoint's cdev where the kernel made one.
    func devicePaths(_ assignment: Assignment) -> [String] {
        var paths = ["/dev/vfio/\(assignment.groupID)"]
        for device in assignment.endpoints {
            if let address = PCIAddress(device.address), let cdev = kernel.vfioCdev(of: address) {
                paths.append("/dev/vfio/devices/\(cdev)")
            }
        }
        return paths
    }

    func caller(of operation: GroupOperation) -> Caller {
        Caller(name: operation.actor, tenant: nil, requestID: operation.requestID)
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
    var errorText: String? { if case .failure(let error) = self { "\(error)" } else { nil } }
}
