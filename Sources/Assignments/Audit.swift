import Foundation
import Store

/// The audit entries the lease workflow writes, always inside the transaction of the change they record.
enum Audit {
    /// An assignment changed state (or was created, renewed …).
    static func assignment(_ action: String, _ assignment: Assignment, caller: Caller, before: AssignmentState?,
                           detail: String?, error: String? = nil, in connection: Connection) throws {
        _ = try AuditLog.append(AuditEntry(
            time: assignment.updatedAt, actor: caller.name, requestID: caller.requestID, action: action,
            group: assignment.groupID, assignment: assignment.id, holder: assignment.holder.id,
            tenant: assignment.holder.tenant, before: before.map { ["state": $0.rawValue] },
            after: ["state": assignment.state.rawValue, "generation": String(assignment.generation)],
            detail: detail, error: error ?? assignment.failure), in: connection)
    }

    /// An operation changed state.
    static func operation(_ action: String, _ operation: GroupOperation, assignment: Assignment, caller: Caller,
                          error: String?, at time: Date = Date(), in connection: Connection) throws {
        _ = try AuditLog.append(AuditEntry(
            time: time, actor: caller.name, requestID: caller.requestID, action: action,
            group: operation.groupID, assignment: assignment.id, holder: assignment.holder.id,
            tenant: assignment.holder.tenant, detail: "\(operation.kind.rawValue) \(operation.id)", error: error),
            in: connection)
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
