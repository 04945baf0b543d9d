import ServiceLog
import Foundation
import Store
import VFIOCore

/// Records one operation's steps. The operation's plan (each device's original driver) is committed before
/// its first kernel write — with the assignment when it was created, or by the worker when the kernel
/// disagrees with it (``AssignmentService/confirmPlan(_:_:journal:)``) — and then the writes follow each
/// other with no commit between them: the kernel's own state (driver links, `driver_override`,
/// `/dev/vfio/N`) is the progress record that recovery reads. Each write's step row (intent and outcome
/// in one), its audit row and each check wait in `pending` and commit with the operation's end
/// (`commit(_:)`: ``AssignmentService/finish``), in order. So a bind or a release is one transaction on the
/// worker, whatever the number of devices; no worker sleeps on a commit between two kernel writes.
///
/// Crash points (``CrashPoints``) sit before the journal's first kernel write and after each one: a test
/// kills vfiod between every two kernel writes, independently of commits.
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
    /// The operation's start, kept for the next transaction ahead of the pending rows
    /// (``recordStart(at:_:)``); told whether that transaction commits it apart from the operation's end.
    private var start: ((Connection, _ apart: Bool) throws -> Void)?
    /// When the operation started running in this process, once ``recordStart(at:_:)`` said so.
    private(set) var startedAt: Date?
    /// The steps the pending rows finish.
    private var pendingSteps: [PendingStep] = []
    /// Whether a kernel write was made through this journal (the crash point before the first is passed).
    private var wrote = false
    /// Numbers the step rows of the transaction being written.
    private let stepNumbers = StepNumbers()

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

    /// Keeps the operation's start, which began at `at`, for the next transaction. `rows` is told whether
    /// that transaction commits it apart from the operation's end: when it also ends the operation
    /// (``commit(endingOperation:announcingStepsTo:_:)``), the end records the start itself (``startedAt``).
    func recordStart(at: Date, _ rows: @escaping (Connection, _ apart: Bool) throws -> Void) {
        startedAt = at
        start = rows
    }

    /// Writes the start and the pending rows, then `body`, in one transaction. When it fails they stay
    /// pending; a storage fault (full disk, I/O error) is thrown as ``Unwritable``. The finished steps go
    /// to `announce` when given, else to `onSteps`. `endingOperation`: `body` records the operation's end.
    @discardableResult
    func commit<T>(endingOperation: Bool = false, announcingStepsTo announce: (@Sendable ([FinishedStep]) -> Void)? = nil,
                   _ body: (Connection) throws -> T) throws -> T {
        let (start, rows, steps) = (start, pending, pendingSteps)
        let result: T
        do {
            result = try database.write { connection -> T in
                stepNumbers.reset()
                try start?(connection, !endingOperation)
                for row in rows { try row(connection) }
                return try body(connection)
            }
        } catch let error as DatabaseError where error.isStorageFault {
            throw Unwritable(fault: error)
        }
        self.start = nil
        pending.removeFirst(rows.count)
        pendingSteps.removeFirst(steps.count)
        if !steps.isEmpty { (announce ?? onSteps)(steps.map(\.step)) }
        return result
    }

    /// The database refused the journal's transaction for a reason that may pass (a full disk, an I/O
    /// error): the operation stops there — before its first kernel write (its plan) or after its last (its
    /// end) — and is resolved from the kernel's state once writes commit again.
    struct Unwritable: Error, CustomStringConvertible {
        let fault: DatabaseError
        var description: String { "the journal cannot be written: \(fault.message)" }
    }

    /// Commits the start and the pending rows, if any.
    func flush() throws {
        if start != nil || !pending.isEmpty { try commit { _ in } }
    }

    /// A step whose kernel write failed, or whose check did not hold.
    struct StepFailure: Error, CustomStringConvertible {
        let action: String
        let device: String?
        let reason: String
        var description: String { "\(action)\(device.map { " \($0)" } ?? ""): \(reason)" }
    }

    /// Journals a kernel write: crash point (before the journal's first write), the write, crash point,
    /// then its step and audit rows kept for the operation's end. Nothing is committed here, so a full disk
    /// never stops an operation between two writes (it pauses at the end's commit, every write made).
    func write(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?,
               before: String?, after: () -> String?, _ body: () throws -> Void) throws {
        if !wrote {
            wrote = true
            CrashPoints.pass("\(operation.kind.rawValue) \(operation.id): before its first kernel write")
        }
        let startedAt = now()
        var failure: String?
        do { try body() } catch { failure = "\(error)" }
        CrashPoints.pass("\(operation.kind.rawValue) \(action) \(device): written")
        outcome(action, device: device, originalDriver: originalDriver, expected: expected, error: failure,
                before: before, after: after(), startedAt: startedAt)
        if let failure { throw StepFailure(action: action, device: device.description, reason: failure) }
    }

    /// Journals a kernel write whose outcome is the driver `read` finds after it; returns that reading
    /// (`nil`: no driver), so the caller need not read the link again.
    func write(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?,
               before: String?, read: () -> String?, _ body: () throws -> Void) throws -> String? {
        var reading: String?
        try write(action, device: device, originalDriver: originalDriver, expected: expected, before: before,
                  after: { reading = read(); return reading ?? "none" }, body)
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
        let (operation, actor, assignment, stepNumbers) = (operation, actor, assignment, stepNumbers)
        let step = pendingStep(action, device: device, error: error, startedAt: startedAt, finishedAt: at)
        record { connection in
            let seq = try OperationRecords.addFinishedStep(operation.id, seq: stepNumbers.take(operation.id, in: connection),
                                                           action: action, device: device?.description,
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

    /// Keeps a write's step row (its intent and outcome in one: the original driver, what it should leave,
    /// when it started and ended) and its audit row for the next transaction.
    private func outcome(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?, error: String?,
                         before: String?, after: String?, startedAt: Date) {
        let at = now()
        let (operation, actor, assignment, stepNumbers) = (operation, actor, assignment, stepNumbers)
        let step = pendingStep(action, device: device, error: error, startedAt: startedAt, finishedAt: at)
        record { connection in
            let seq = try OperationRecords.addWrittenStep(operation.id, seq: stepNumbers.take(operation.id, in: connection),
                                                          action: action, device: device.description,
                                                          originalDriver: originalDriver, expected: expected,
                                                          error: error, startedAt: startedAt, finishedAt: at, in: connection)
            step.step.seq = seq
            try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID,
                             assignment: assignment, device: device.description,
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

/// Numbers an operation's step rows inside one of its journal's transactions: the first looks the
/// operation's last number up, the others follow it without another lookup. Only the journal writes its
/// operation's steps, and its rows run one after another in the transaction, so the numbers are those the
/// lookup would give each row. Reset at the start of every attempt to write the rows.
private final class StepNumbers {
    private var next: Int?

    func reset() { next = nil }

    func take(_ operationID: String, in connection: Connection) throws -> Int {
        let seq = try next ?? OperationRecords.nextStepSeq(operationID, in: connection)
        next = seq + 1
        return seq
    }
}
