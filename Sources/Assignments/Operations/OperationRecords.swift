import Foundation
import Store

/// Operations and their journaled steps in SQLite.
enum OperationRecords {
    static func insert(_ operation: GroupOperation, in connection: Connection) throws {
        try connection.run("""
            INSERT INTO operations (id, kind, assignment_id, group_id, state, reason, created_at, request_id, actor,
                                    target, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, bindings: [.text(operation.id), .text(operation.kind.rawValue), .text(operation.assignmentID),
                            .integer(Int64(operation.groupID)), .text(operation.state.rawValue), SQLValue(operation.reason),
                            .text(Timestamp.format(operation.createdAt)), SQLValue(operation.requestID),
                            .text(operation.actor), SQLValue(operation.target), .text(operation.detail.encoded)])
    }

    /// Replaces what the operation saw while it is still queued or running; a finished operation's
    /// detail was written with its end and stands. Returns whether it was written.
    @discardableResult
    static func setDetailWhileUnfinished(_ id: String, _ detail: OperationDetail, in connection: Connection) throws -> Bool {
        try connection.run("UPDATE operations SET detail = ? WHERE id = ? AND state IN ('queued', 'running')",
                           bindings: [.text(detail.encoded), .text(id)]) > 0
    }

    /// Whether the operation has finished (a missing one counts as finished); one row, no steps.
    static func isFinished(_ id: String, in connection: Connection) throws -> Bool {
        let state = try connection.query("SELECT state FROM operations WHERE id = ?", bindings: [.text(id)]) { $0.string(0) }.first
        return state.flatMap(OperationState.init(rawValue:))?.isFinished ?? true
    }

    /// Whether the operation has finished and the tenant of its assignment, without loading either:
    /// `nil` when there is no such operation.
    static func glance(_ id: String, in connection: Connection) throws -> (isFinished: Bool, tenant: String)? {
        try connection.query("""
            SELECT o.state, a.tenant FROM operations o JOIN assignments a ON a.id = o.assignment_id WHERE o.id = ?
            """, bindings: [.text(id)]) { row in
            ((OperationState(rawValue: row.string(0))?.isFinished ?? true), row.string(1))
        }.first
    }

    /// What the operation saw so far; one column, no steps.
    static func detail(_ id: String, in connection: Connection) throws -> OperationDetail? {
        try connection.query("SELECT detail FROM operations WHERE id = ?", bindings: [.text(id)]) { $0.string(0) }
            .first.map(OperationDetail.decode)
    }

    /// Changes part of what the operation saw, read and written in the caller's transaction (the release
    /// watcher and the worker both write it).
    static func updateDetail(_ id: String, in connection: Connection, _ change: (inout OperationDetail) -> Void) throws {
        var detail = try Self.detail(id, in: connection) ?? OperationDetail()
        change(&detail)
        try setDetail(id, detail, in: connection)
    }

    /// Replaces what the operation saw (openers, requests, escalation, reset path).
    static func setDetail(_ id: String, _ detail: OperationDetail, in connection: Connection) throws {
        try connection.run("UPDATE operations SET detail = ? WHERE id = ?", bindings: [.text(detail.encoded), .text(id)])
    }

    /// Sets the operation's state and the time it reached it (`started_at` for `running`, else
    /// `finished_at`). `startedAt`, on an end whose start commits with it, sets `started_at` in the same write.
    static func setState(_ id: String, _ state: OperationState, error: String? = nil, startedAt: Date? = nil,
                         at date: Date, in connection: Connection) throws {
        let column = state == .running ? "started_at" : "finished_at"
        var bindings: [SQLValue] = [.text(state.rawValue), SQLValue(error), .text(Timestamp.format(date))]
        var alsoStarted = ""
        if let startedAt, state != .running {
            alsoStarted = ", started_at = COALESCE(started_at, ?)"
            bindings.append(.text(Timestamp.format(startedAt)))
        }
        bindings.append(.text(id))
        try connection.run("UPDATE operations SET state = ?, error = COALESCE(?, error), \(column) = ?\(alsoStarted) WHERE id = ?",
                           bindings: bindings)
    }

    /// A kernel write's step, recorded after the write (with the operation's end): `done`, or `failed` with
    /// `error`; returns its number.
    static func addWrittenStep(_ operationID: String, seq: Int, action: String, device: String?,
                               originalDriver: String?, expected: String?, error: String?, startedAt: Date,
                               finishedAt: Date, in connection: Connection) throws -> Int {
        try insertStep(operationID, seq: seq, action: action, device: device, originalDriver: originalDriver,
                       expected: expected, state: error == nil ? "done" : "failed", finishedAt: finishedAt, error: error,
                       at: startedAt, in: connection)
    }

    /// A step that is over as it is recorded (a check): `done`, or `failed` with `error`; returns its number.
    static func addFinishedStep(_ operationID: String, seq: Int, action: String, device: String?,
                                expected: String?, error: String?, at date: Date, in connection: Connection) throws -> Int {
        try insertStep(operationID, seq: seq, action: action, device: device, originalDriver: nil, expected: expected,
                       state: error == nil ? "done" : "failed", finishedAt: date, error: error, at: date, in: connection)
    }

    /// The number the operation's next step takes: one after its last.
    static func nextStepSeq(_ operationID: String, in connection: Connection) throws -> Int {
        try connection.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM operation_steps WHERE operation_id = ?",
                             bindings: [.text(operationID)]) { Int($0.int64(0)) }.first ?? 1
    }

    /// Inserts the operation's step numbered `seq` (``nextStepSeq(_:in:)`` for the first of a transaction);
    /// returns its number.
    private static func insertStep(_ operationID: String, seq next: Int, action: String, device: String?,
                                   originalDriver: String?, expected: String?, state: String, finishedAt: Date?,
                                   error: String?, at date: Date, in connection: Connection) throws -> Int {
        try connection.run("""
            INSERT INTO operation_steps (operation_id, seq, action, device, original_driver, expected, state, started_at,
                                         finished_at, error)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, bindings: [.text(operationID), .integer(Int64(next)), .text(action), SQLValue(device),
                            SQLValue(originalDriver), SQLValue(expected), .text(state), .text(Timestamp.format(date)),
                            SQLValue(finishedAt.map(Timestamp.format)), SQLValue(error)])
        return next
    }

    static func get(_ id: String, in connection: Connection) throws -> GroupOperation? {
        try list(where: "id = ?", [.text(id)], in: connection).first
    }

    /// The operations of an assignment, oldest first; only its releases with `releasesOnly`.
    static func of(assignment id: String, releasesOnly: Bool = false, in connection: Connection) throws -> [GroupOperation] {
        try list(where: releasesOnly ? "assignment_id = ? AND kind = 'release'" : "assignment_id = ?", [.text(id)], in: connection)
    }

    static func unfinished(in connection: Connection) throws -> [GroupOperation] {
        try list(where: "state IN ('queued', 'running')", [], in: connection)
    }

    private static func list(where condition: String, _ bindings: [SQLValue], in connection: Connection) throws -> [GroupOperation] {
        var operations = try connection.query("""
            SELECT id, kind, assignment_id, group_id, state, reason, created_at, started_at, finished_at, error,
                   request_id, actor, target, detail FROM operations WHERE \(condition) ORDER BY id
            """, bindings: bindings) { row -> GroupOperation in
            guard let kind = OperationKind(rawValue: row.string(1)), let state = OperationState(rawValue: row.string(4)),
                  let created = Timestamp.parse(row.string(6)) else { throw AssignmentError.corruptRow("operation \(row.string(0))") }
            return GroupOperation(id: row.string(0), kind: kind, assignmentID: row.string(2), groupID: Int(row.int64(3)),
                             state: state, reason: row.nullableString(5), createdAt: created,
                             startedAt: row.nullableString(7).flatMap(Timestamp.parse),
                             finishedAt: row.nullableString(8).flatMap(Timestamp.parse), error: row.nullableString(9),
                             requestID: row.nullableString(10), actor: row.string(11), steps: [],
                             target: row.nullableString(12), detail: OperationDetail.decode(row.string(13)))
        }
        for index in operations.indices {
            operations[index].steps = try connection.query("""
                SELECT seq, action, device, original_driver, expected, state, started_at, finished_at, error
                FROM operation_steps WHERE operation_id = ? ORDER BY seq
                """, bindings: [.text(operations[index].id)]) { row in
                OperationStep(seq: Int(row.int64(0)), action: row.string(1), device: row.nullableString(2),
                              originalDriver: row.nullableString(3), expected: row.nullableString(4),
                              state: OperationStep.State(rawValue: row.string(5)) ?? .failed,
                              startedAt: Timestamp.parse(row.string(6)) ?? Date(timeIntervalSince1970: 0),
                              finishedAt: row.nullableString(7).flatMap(Timestamp.parse), error: row.nullableString(8))
            }
        }
        return operations
    }
}
