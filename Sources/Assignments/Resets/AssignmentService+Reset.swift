import Foundation
import Inventory
import Store
import VFIOCore

extension AssignmentService {
    /// `GET /v1/devices/{address}/reset-scope`: what a reset would touch and whether vfiod could do it now.
    public func resetPreview(_ address: PCIAddress, method: ResetMethod?) async throws -> ResetPreview {
        let snapshot = inventory.current
        guard snapshot.device(address) != nil else { throw AssignmentError.unknownDevice(address.description) }
        let kernel = kernel
        return try await observer.run(label: "reset-scope") {
            ResetPreview.make(address, method: method, snapshot: snapshot) { groups in
                kernel.openers(groups: groups, cdevs: [])
            }
        }
    }

    /// `POST /v1/devices/{address}/reset`: queues a reset of a leased device whose scope vfiod owns.
    public func requestReset(_ address: PCIAddress, method: ResetMethod?, caller: Caller) async throws -> GroupOperation {
        let preview = try await resetPreview(address, method: method)
        guard preview.canReset, let assignmentID = preview.assignmentID, let chosen = preview.method else {
            throw AssignmentError.resetNotPossible(address.description, blockers: preview.blockers.map(Self.describe))
        }
        let at = now()
        let (assignment, operation) = try await database.write { connection -> (Assignment, GroupOperation) in
            guard let assignment = try AssignmentRecords.get(assignmentID, in: connection), assignment.state == .active else {
                throw AssignmentError.resetNotPossible(address.description, blockers: ["assignment \(assignmentID) is no longer active"])
            }
            var operation = GroupOperation(id: Identifier.make("op", at: at), kind: .reset, assignmentID: assignmentID,
                                           groupID: assignment.groupID, state: .queued, reason: "requested",
                                           createdAt: at, requestID: caller.requestID, actor: caller.name, steps: [],
                                           target: address.description)
            operation.detail.resetMethod = chosen.rawValue
            try OperationRecords.insert(operation, in: connection)
            try Audit.operation("operation.queued", operation, assignment: assignment, caller: caller,
                                error: nil, in: connection)
            return (assignment, operation)
        }
        try await submitOrAbandon(operation, assignment)
        return operation
    }

    /// Queues `operation`; when the queue is full it is recorded as failed (so it never runs later,
    /// unasked) and the caller gets `busy`.
    func submitOrAbandon(_ operation: GroupOperation, _ assignment: Assignment) async throws {
        do {
            try submit(operation, for: assignment)
        } catch {
            let at = now()
            try await database.write { connection in
                try OperationRecords.setState(operation.id, .failed, error: "not run: the worker queue was full", at: at, in: connection)
                try Audit.operation("operation.failed", operation, assignment: assignment, caller: .system,
                                    error: "not run: the worker queue was full", in: connection)
            }
            waiters.finished(operation.id)
            throw AssignmentError.busy
        }
    }

    /// Runs a queued reset on a worker thread: checks the preview again (things change), resets through
    /// the kernel, checks the device answers; a failure quarantines every endpoint in the scope.
    func runReset(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws {
        guard let target = operation.target.flatMap(PCIAddress.init) else { return }
        let requested = operation.detail.resetMethod.flatMap(ResetMethod.init(rawValue:))
        let preview = ResetPreview.make(target, method: requested, snapshot: inventory.current) { groups in
            kernel.openers(groups: groups, cdevs: [])
        }
        guard preview.canReset, let method = preview.method else {
            let reason = "refused: " + preview.blockers.map(Self.describe).joined(separator: "; ")
            try endOperation(operation, assignment, error: reason, detail: operation.detail, journal: journal)
            return
        }
        var detail = operation.detail
        let failure = resetAndVerify(target, method: method, groups: preview.groups, journal: journal, detail: &detail)
        if let failure {
            let endpoints = preview.devices.filter { !$0.isBridge }.map(\.address)
            try journal.flush()
            try quarantine(endpoints, reason: "reset failed: \(failure)", assignment: assignment, operation: operation)
        }
        try endOperation(operation, assignment, error: failure, detail: detail, journal: journal)
    }

    /// The reset and the check that the device answers, journaled; returns what failed, or nil.
    func resetAndVerify(_ target: PCIAddress, method: ResetMethod, groups: [Int], journal: Journal,
                        detail: inout OperationDetail) -> String? {
        detail.resetMethod = method.rawValue
        var outcome: ResetOutcome?
        do {
            try journal.write("reset", device: target, originalDriver: nil, expected: "\(method.rawValue) reset",
                              before: kernel.driver(of: target), after: { [kernel] in kernel.driver(of: target) }) {
                outcome = try kernel.reset(target, method: method, groups: groups)
            }
            detail.resetPath = outcome?.path.rawValue
            detail.kernelScope = outcome.map { $0.kernelScope.map(\.description) }
            try journal.check("verify_responds", device: target, expected: "a vendor id other than 0xffff") {
                guard let vendor = kernel.configVendorID(of: target) else { return (false, "config space unreadable") }
                return (vendor != 0xffff, String(format: "0x%04x", vendor))
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Quarantines `addresses` (audited), keeping them where they are: on vfio-pci.
    func quarantine(_ addresses: [PCIAddress], reason: String, assignment: Assignment, operation: GroupOperation) throws {
        let at = now()
        let entries = addresses.map { address in
            QuarantineEntry(address: address.description, reason: reason, since: at, assignmentID: assignment.id,
                            operationID: operation.id,
                            originalDriver: assignment.devices.first { $0.address == address.description }?.originalDriver)
        }
        // Sysfs is read before the transaction: its body runs on the committer, which every write waits for.
        let drivers = addresses.map { kernel.driver(of: $0) ?? "none" }
        try database.write { connection in
            for (entry, driver) in zip(entries, drivers) {
                try QuarantineRecords.insert(entry, in: connection)
                try Audit.append(action: "device.quarantined", actor: operation.actor, requestID: operation.requestID,
                                 assignment: assignment, device: entry.address, before: nil,
                                 after: ["state": "quarantined", "driver": driver],
                                 detail: "\(operation.kind.rawValue) \(operation.id)", error: reason, at: at, in: connection)
            }
        }
        for entry in entries { quarantines.set(entry) }
        inventory.refreshDevices(addresses)
    }

    /// `DELETE /v1/devices/{address}/quarantine` (admin): gives the device back to the driver it had
    /// before its lease, then lifts the quarantine. Under a still-live lease only the quarantine is lifted
    /// (the device stays with its holder); returns `nil` then.
    public func clearQuarantine(_ address: PCIAddress, caller: Caller) async throws -> GroupOperation? {
        guard let entry = quarantines.entry(address.description) else { throw AssignmentError.notQuarantined(address.description) }
        let at = now()
        let live = live.assignment(device: address.description)
        let result = try await database.write { connection -> (GroupOperation, Assignment)? in
            guard let assignmentID = entry.assignmentID, live == nil,
                  let assignment = try AssignmentRecords.get(assignmentID, in: connection) else {
                try QuarantineRecords.delete(entry.address, in: connection)
                let detail = live != nil ? "lifted; the device stays with its live lease"
                    : "lifted; no assignment recorded to restore from, the device stays on its driver"
                try Audit.append(action: "device.quarantine_cleared", actor: caller.name, requestID: caller.requestID,
                                 assignment: nil, device: entry.address, before: ["state": "quarantined"],
                                 after: ["state": live != nil ? "assigned" : "available"], detail: detail,
                                 error: nil, at: at, in: connection)
                return nil
            }
            let operation = GroupOperation(id: Identifier.make("op", at: at), kind: .restore, assignmentID: assignmentID,
                                           groupID: assignment.groupID, state: .queued, reason: "quarantine cleared",
                                           createdAt: at, requestID: caller.requestID, actor: caller.name, steps: [],
                                           target: entry.address)
            try OperationRecords.insert(operation, in: connection)
            try Audit.operation("operation.queued", operation, assignment: assignment, caller: caller, error: nil, in: connection)
            return (operation, assignment)
        }
        guard let (operation, assignment) = result else {
            quarantines.remove(entry.address)
            inventory.refreshDevices([address])
            return nil
        }
        try await submitOrAbandon(operation, assignment)
        return operation
    }

    /// Runs a restore on a worker: the device back to its original driver, then the quarantine lifted.
    func runRestore(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws {
        guard let target = operation.target, let address = PCIAddress(target) else { return }
        let entry = quarantines.entry(target)
        let device = AssignmentDevice(address: target, originalDriver: entry?.originalDriver, isBridge: false)
        let failure = Result { try GroupBinder(kernel: kernel).restore([device], journal: journal) }.errorText
        let at = now()
        let driver = kernel.driver(of: address) ?? "none"
        try journal.commit { connection in
            if failure == nil {
                try QuarantineRecords.delete(target, in: connection)
                try Audit.append(action: "device.quarantine_cleared", actor: operation.actor, requestID: operation.requestID,
                                 assignment: assignment, device: target, before: ["state": "quarantined"],
                                 after: ["state": "available", "driver": driver],
                                 detail: "restore \(operation.id)", error: nil, at: at, in: connection)
            }
        }
        if failure == nil { quarantines.remove(target) }
        inventory.refreshDevices([address])
        try endOperation(operation, assignment, error: failure.map { "restore failed, still quarantined: \($0)" }, detail: operation.detail)
    }

    /// Records an operation's end (state, detail when given, audit) in one transaction, without changing
    /// its assignment.
    /// With a `journal`, its pending rows commit first, in the same transaction.
    func endOperation(_ operation: GroupOperation, _ assignment: Assignment, error: String?, detail: OperationDetail?,
                      journal: Journal? = nil) throws {
        let at = now()
        let startedAt = journal?.startedAt
        let end = { (connection: Connection) throws in
            try self.recordEnd(operation, assignment, error: error, detail: detail, startedAt: startedAt, at: at, in: connection)
        }
        if let journal { try journal.commit(endingOperation: true, end) } else { try database.write(end) }
    }

    /// An operation's end, inside the caller's transaction: its detail when given, its state, its audit row
    /// (with `startedAt` when the operation started in this process).
    func recordEnd(_ operation: GroupOperation, _ assignment: Assignment, error: String?, detail: OperationDetail?,
                   startedAt: Date?, at: Date, in connection: Connection) throws {
        if let detail { try OperationRecords.setDetail(operation.id, detail, in: connection) }
        try OperationRecords.setState(operation.id, error == nil ? .succeeded : .failed, error: error, startedAt: startedAt,
                                      at: at, in: connection)
        try Audit.operation(error == nil ? "operation.succeeded" : "operation.failed", operation,
                            assignment: assignment, caller: caller(of: operation), error: error, startedAt: startedAt,
                            at: at, in: connection)
    }

    static func describe(_ blocker: ResetPreview.Blocker) -> String {
        (blocker.address.map { "\($0): " } ?? "") + blocker.reason
    }
}
