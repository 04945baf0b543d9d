import ServiceLog
import Foundation
import Store
import VFIOCore

/// Records one operation's steps: an intent row committed before each kernel write, the outcome (and
/// its audit entry) committed after it. No transaction is held across a kernel write.
///
/// Outcomes and checks (rows that need no kernel write after them) wait in `pending` and commit with the
/// next transaction of the operation: the next step's intent, or the operation's end (`commit(_:)`).
/// So binding a device without a driver is three transactions instead of nine (the last also ends the
/// operation: `AssignmentService.finish`), and every row still commits in order,
/// each intent before its write and each outcome after it.
final class Journal {
    let database: Database
    let operation: GroupOperation
    let assignment: Assignment
    let actor: String
    let now: @Sendable () -> Date
    /// Told of the steps each transaction finished, after it committed.
    let onSteps: @Sendable ([FinishedStep]) -> Void
    /// Rows to write in the next transaction, in order.
    private var pending: [(Connection) throws -> Void] = []
    /// The steps the pending rows finish.
    private var pendingSteps: [PendingStep] = []

    init(database: Database, operation: GroupOperation, assignment: Assignment, actor: String,
         now: @escaping @Sendable () -> Date, onSteps: @escaping @Sendable ([FinishedStep]) -> Void) {
        self.database = database
        self.operation = operation
        self.assignment = assignment
        self.actor = actor
        self.now = now
        self.onSteps = onSteps
    }

    /// Keeps `rows` for the next transaction (they must not depend on a kernel write after them).
    func record(_ rows: @escaping (Connection) throws -> Void) {
        pending.append(rows)
    }

    /// Writes the pending rows, then `body`, in one transaction. When it fails the rows stay pending; a
    /// storage fault (full disk, I/O error) is thrown as ``Unwritable``.
    @discardableResult
    func commit<T>(_ body: (Connection) throws -> T) throws -> T {
        let rows = pending
        let steps = pendingSteps
        let result: T
        do {
            result = try database.write { connection -> T in
                for row in rows { try row(connection) }
                return try body(connection)
            }
        } catch let error as DatabaseError where error.isStorageFault {
            throw Unwritable(fault: error)
        }
        pending.removeFirst(rows.count)
        pendingSteps.removeFirst(steps.count)
        if !steps.isEmpty { onSteps(steps.map(\.step)) }
        return result
    }

    /// The database refused the journal's transaction for a reason that may pass (a full disk, an I/O
    /// error): the operation stops before its next kernel write, and resumes once writes commit again.
    struct Unwritable: Error, CustomStringConvertible {
        let fault: DatabaseError
        var description: String { "the journal cannot be written: \(fault.message)" }
    }

    /// Commits the pending rows, if any.
    func flush() throws {
        if !pending.isEmpty { try commit { _ in } }
    }

    /// A step whose kernel write failed, or whose check did not hold.
    struct StepFailure: Error, CustomStringConvertible {
        let action: String
        let device: String?
        let reason: String
        var description: String { "\(action)\(device.map { " \($0)" } ?? ""): \(reason)" }
    }

    /// Journals a kernel write: intent, crash point, the write, crash point, outcome.
    ///
    /// `leavesDriverless`: the write takes the device out of a driverless state the operation put it in.
    /// When the database cannot take its intent, such a write is made all the same — a device is never
    /// left without a driver for as long as a disk stays full — and its intent and outcome are kept for the
    /// next transaction (recovery reads the kernel's state, not the journal's, to finish an operation).
    func write(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?,
               before: String?, leavesDriverless: Bool = false, after: () -> String?, _ body: () throws -> Void) throws {
        var seq: Int?
        let startedAt = now()
        do {
            seq = try intent(action, device: device, originalDriver: originalDriver, expected: expected)
        } catch let unwritable as Unwritable where leavesDriverless {
            Log.warning("\(operation.kind.rawValue) \(operation.id): \(action) \(device) made before its intent is recorded "
                        + "(\(unwritable)), so the device does not stay driverless")
        }
        CrashPoints.pass("\(operation.kind.rawValue) \(action) \(device): intent committed")
        var failure: String?
        do { try body() } catch { failure = "\(error)" }
        CrashPoints.pass("\(operation.kind.rawValue) \(action) \(device): written")
        let late = seq == nil ? LateIntent(originalDriver: originalDriver, expected: expected, at: now()) : nil
        outcome(seq ?? 0, late: late, action, device: device, error: failure, before: before, after: after(), startedAt: startedAt)
        if let failure { throw StepFailure(action: action, device: device.description, reason: failure) }
    }

    /// Journals a kernel write whose outcome is the driver `read` finds after it; returns that reading
    /// (`nil`: no driver), so the caller need not read the link again.
    func write(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?,
               before: String?, leavesDriverless: Bool = false, read: () -> String?, _ body: () throws -> Void) throws -> String? {
        var reading: String?
        try write(action, device: device, originalDriver: originalDriver, expected: expected, before: before,
                  leavesDriverless: leavesDriverless, after: { reading = read(); return reading ?? "none" }, body)
        return reading
    }

    /// Journals a check (no kernel write, no crash point): `holds` says whether it passed. Its step row
    /// commits with the next transaction. Only a failed check is audited: a passed one changes nothing
    /// (what it saw is in the audit row of the write before it) and stays in the operation's steps.
    func check(_ action: String, device: PCIAddress?, expected: String, _ holds: () -> (Bool, String)) throws {
        let startedAt = now()
        let (ok, found) = holds()
        let error = ok ? nil : "expected \(expected), found \(found)"
        let at = now()
        let (operation, actor, assignment) = (operation, actor, assignment)
        let step = pendingStep(action, device: device, error: error, startedAt: startedAt, finishedAt: at)
        record { connection in
            let seq = try OperationRecords.addFinishedStep(operation.id, action: action, device: device?.description,
                                                           expected: expected, error: error, at: at, in: connection)
            step.step.seq = seq
            guard let error else { return }
            try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID,
                             assignment: assignment, device: device?.description, before: nil,
                             after: ["check": "failed"],
                             detail: "\(operation.kind.rawValue) \(operation.id) step \(seq) \(action): found \(found)",
                             error: error, at: at, in: connection)
        }
        if let error { throw StepFailure(action: action, device: device?.description, reason: error) }
    }

    /// Commits the pending rows and the intent of the next write; returns the intent's step number.
    private func intent(_ action: String, device: PCIAddress?, originalDriver: String?, expected: String?) throws -> Int {
        let at = now()
        return try commit { connection in
            try OperationRecords.addStep(operation.id, action: action, device: device?.description,
                                         originalDriver: originalDriver, expected: expected, at: at, in: connection)
        }
    }

    /// The intent of a write made before the database could take it, recorded with its outcome.
    private struct LateIntent {
        let originalDriver: String?
        let expected: String?
        let at: Date
    }

    /// Keeps a write's outcome (and its audit row) for the next transaction; with `late`, the write's intent
    /// too, recorded first (the step's number is then the one it gets).
    private func outcome(_ seq: Int, late: LateIntent? = nil, _ action: String, device: PCIAddress?, error: String?,
                         before: String?, after: String?, startedAt: Date) {
        let at = now()
        let (operation, actor, assignment) = (operation, actor, assignment)
        let step = pendingStep(action, device: device, error: error, startedAt: startedAt, finishedAt: at)
        record { connection in
            let seq = try late.map {
                try OperationRecords.addStep(operation.id, action: action, device: device?.description,
                                             originalDriver: $0.originalDriver, expected: $0.expected, at: $0.at, in: connection)
            } ?? seq
            step.step.seq = seq
            try OperationRecords.finishStep(operation.id, seq: seq, error: error, at: at, in: connection)
            try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID,
                             assignment: assignment, device: device?.description,
                             before: before.map { ["driver": $0] }, after: after.map { ["driver": $0] },
                             detail: "\(operation.kind.rawValue) \(operation.id) step \(seq) \(action)",
                             error: error, at: at, in: connection)
        }
    }

    /// A step the next transaction finishes; its number is filled in when its row is written.
    private func pendingStep(_ action: String, device: PCIAddress?, error: String?, startedAt: Date, finishedAt: Date) -> PendingStep {
        let step = PendingStep(FinishedStep(operationID: operation.id, kind: operation.kind.rawValue, assignmentID: assignment.id,
                                            tenant: assignment.holder.tenant, groupID: assignment.groupID, seq: 0, action: action,
                                            device: device?.description, startedAt: startedAt, finishedAt: finishedAt, error: error))
        pendingSteps.append(step)
        return step
    }
}
