import Foundation
import Store

/// The audit entries the lease workflow writes, always inside the transaction of the change they record.
///
/// The event stream derives `assignment.changed` and `operation.changed` from these rows alone, so their
/// `after` maps carry what those events show: an assignment's `state`, `generation` and `expiresAt`; an
/// operation's id (`operation`), `kind` and `state`, and on an end row the time it started (`startedAt`)
/// when it started in this process. (Rows written before these keys existed lack them.)
enum Audit {
    /// An assignment changed state (or was created, renewed …).
    static func assignment(_ action: String, _ assignment: Assignment, caller: Caller, before: AssignmentState?,
                           detail: String?, error: String? = nil, in connection: Connection) throws {
        _ = try AuditLog.append(AuditEntry(
            time: assignment.updatedAt, actor: caller.name, requestID: caller.requestID, action: action,
            group: assignment.groupID, assignment: assignment.id, holder: assignment.holder.id,
            tenant: assignment.holder.tenant, before: before.map { ["state": $0.rawValue] },
            after: ["state": assignment.state.rawValue, "generation": String(assignment.generation),
                    "expiresAt": Timestamp.format(assignment.expiresAt)],
            detail: detail, error: error ?? assignment.failure), in: connection)
    }

    /// An operation changed state; `startedAt`, on an end row, when the operation started.
    static func operation(_ action: String, _ operation: GroupOperation, assignment: Assignment, caller: Caller,
                          error: String?, startedAt: Date? = nil, at time: Date = Date(), in connection: Connection) throws {
        var after = ["operation": operation.id, "kind": operation.kind.rawValue, "state": state(of: action, operation)]
        if let startedAt { after["startedAt"] = Timestamp.format(startedAt) }
        _ = try AuditLog.append(AuditEntry(
            time: time, actor: caller.name, requestID: caller.requestID, action: action,
            group: operation.groupID, assignment: assignment.id, holder: assignment.holder.id,
            tenant: assignment.holder.tenant, after: after,
            detail: "\(operation.kind.rawValue) \(operation.id)", error: error),
            in: connection)
    }

    /// The state an operation row records: the action's last part when it names one (`operation.running`),
    /// else the operation's own (`operation.interrupted` leaves it as it was).
    private static func state(of action: String, _ operation: GroupOperation) -> String {
        let name = String(action.split(separator: ".").last ?? "")
        return OperationState(rawValue: name)?.rawValue ?? operation.state.rawValue
    }

    /// A journaled step or a device-level observation.
    static func append(action: String, actor: String, requestID: String?, assignment: Assignment?, device: String?,
                       before: [String: String]?, after: [String: String]?, detail: String?, error: String?,
                       at time: Date, in connection: Connection) throws {
        _ = try AuditLog.append(AuditEntry(
            time: time, actor: actor, requestID: requestID, action: action, device: device,
            group: assignment?.groupID, assignment: assignment?.id, holder: assignment?.holder.id,
            tenant: assignment?.holder.tenant, before: before, after: after, detail: detail, error: error),
            in: connection)
    }
}
