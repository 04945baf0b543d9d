import Foundation
import Store
import VFIOCore

/// Records one operation's steps: an intent row committed before each kernel write, the outcome (and
/// its audit entry) committed after it. No transaction is held across a kernel write.
struct Journal {
    let database: Database
    let operation: GroupOperation
    let assignment: Assignment
    let actor: String
    let now: @Sendable () -> Date

    /// A step whose kernel write failed, or whose check did not hold.
    struct StepFailure: Error, CustomStringConvertible {
        let action: String
        let device: String?
        let reason: String
        var description: String { "\(action)\(device.map { " \($0)" } ?? ""): \(reason)" }
    }

    /// Journals a kernel write: intent, crash point, the write, crash point, outcome.
    func write(_ action: String, device: PCIAddress, originalDriver: String?, expected: String?,
               before: String?, after: @escaping () -> String?, _ body: () throws -> Void) throws {
        let seq = try intent(action, device: device, originalDriver: originalDriver, expected: expected)
        CrashPoints.pass("\(operation.kind.rawValue) \(action) \(device): intent committed")
        var failure: String?
        do { try body() } catch { failure = "\(error)" }
        CrashPoints.pass("\(operation.kind.rawValue) \(action) \(device): written")
        try outcome(seq, action, device: device, error: failure, before: before, after: after())
        if let failure { throw StepFailure(action: action, device: device.description, reason: failure) }
    }

    /// Journals a check (no kernel write, no crash point): `holds` says whether it passed.
    /// A check writes nothing to the kernel, so its row and outcome commit in one transaction.
    func check(_ action: String, device: PCIAddress?, expected: String, _ holds: () -> (Bool, String)) throws {
        let (ok, found) = holds()
        let error = ok ? nil : "expected \(expected), found \(found)"
        try database.transaction(.immediate) { connection in
            let seq = try OperationRecords.addStep(operation.id, action: action, device: device?.description,
                                                   originalDriver: nil, expected: expected, at: now(), in: connection)
            try OperationRecords.finishStep(operation.id, seq: seq, error: error, at: now(), in: connection)
            try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID,
                             assignment: assignment, device: device?.description, before: nil,
                             after: ["check": ok ? "passed" : "failed"],
                             detail: "\(operation.kind.rawValue) \(operation.id) step \(seq) \(action): found \(found)",
                             error: error, at: now(), in: connection)
        }
        if let error { throw StepFailure(action: action, device: device?.description, reason: error) }
    }

    private func intent(_ action: String, device: PCIAddress?, originalDriver: String?, expected: String?) throws -> Int {
        try database.transaction(.immediate) { connection in
            try OperationRecords.addStep(operation.id, action: action, device: device?.description,
                                         originalDriver: originalDriver, expected: expected, at: now(), in: connection)
        }
    }

    private func outcome(_ seq: Int, _ action: String, device: PCIAddress?, error: String?, before: String?,
                         after: String?) throws {
        try database.transaction(.immediate) { connection in
            try OperationRecords.finishStep(operation.id, seq: seq, error: error, at: now(), in: connection)
            try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID,
                             assignment: assignment, device: device?.description,
                             before: before.map { ["driver": $0] }, after: after.map { ["driver": $0] },
                             detail: "\(operation.kind.rawValue) \(operation.id) step \(seq) \(action)",
                             error: error, at: now(), in: connection)
        }
    }
}
