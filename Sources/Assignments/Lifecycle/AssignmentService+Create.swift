import Foundation
import ServiceLog
import Inventory
import Store
import VFIOCore

/// An assignment checked against the inventory and ready to start: the assignment and its bind, with
/// their ids, not yet stored.
public struct AssignmentPlan: Sendable {
    /// The assignment, `binding`.
    public let assignment: Assignment
    /// Its bind, `queued`.
    public let operation: GroupOperation
}

extension AssignmentService {
    /// Checks a request against the inventory and the live assignments, and plans the assignment and its
    /// bind; stores nothing. Throws the refusal (`AssignmentError`).
    public func planAssignment(_ request: CreateAssignmentRequest, caller: Caller) throws -> AssignmentPlan {
        if let tenant = caller.tenant, tenant != request.holder.tenant { throw AssignmentError.tenantMismatch(tenant) }
        let snapshot = inventory.current
        let group = try resolveGroup(request.target, in: snapshot)
        let members = group.devices.compactMap { snapshot.device($0) }
        if let (id, _) = live.assignment(group: group.id) {
            // An operator learns that the group is taken, not by whom, unless the assignment is its tenant's.
            let visible = caller.tenant == nil || live.tenants[id] == caller.tenant
            throw AssignmentError.groupAssigned(group: group.id, assignmentID: visible ? id : nil)
        }
        let blockers = members.filter { !InventoryBuilder.isBridgeClass($0.facts) && $0.state != .available }
            .map { "\($0.address) is \($0.state.rawValue): \($0.stateReason)" }
            + members.compactMap(InventoryBuilder.bridgeBlocker)
        guard blockers.isEmpty, members.contains(where: { !InventoryBuilder.isBridgeClass($0.facts) }) else {
            throw AssignmentError.notAssignable(group: group.id, blockers: blockers.isEmpty ? ["the group has no endpoint"] : blockers)
        }
        let created = now()
        let ttl = min(request.ttlSeconds, maxTTLSeconds)
        let assignment = Assignment(
            id: Identifier.make("asg", at: created), groupID: group.id,
            devices: members.map { AssignmentDevice(address: $0.address.description, originalDriver: $0.facts.driver,
                                                    isBridge: InventoryBuilder.isBridgeClass($0.facts)) },
            holder: request.holder, state: .binding, ttlSeconds: ttl, expiresAt: created.addingTimeInterval(Double(ttl)),
            resetOnRelease: request.resetOnRelease, generation: 1, createdAt: created, updatedAt: created,
            createdBy: caller.name, failure: nil, releaseReason: nil, devicePaths: [], release: request.release)
        let operation = GroupOperation(id: Identifier.make("op", at: created), kind: .bind, assignmentID: assignment.id,
                                       groupID: group.id, state: .queued, reason: "requested", createdAt: created,
                                       requestID: caller.requestID, actor: caller.name, steps: [])
        return AssignmentPlan(assignment: assignment, operation: operation)
    }

    /// Stores a planned assignment, its bind and its audit row in one transaction — with `answer`, the
    /// response its request gets, when the request carried an Idempotency-Key — then queues the bind.
    ///
    /// Throws `IdempotencyKeyTaken` when a request with the same key committed first (nothing is
    /// stored), `AssignmentError.groupAssigned` when another assignment took the group, and `AssignmentError.busy`
    /// when the worker queue is full (the assignment is then failed and `answer` removed, in one
    /// transaction: a retry with the key starts afresh).
    public func startAssignment(_ plan: AssignmentPlan, caller: Caller, answer: IdempotencyRecord? = nil) async throws -> Assignment {
        let (assignment, operation) = (plan.assignment, plan.operation)
        try await database.write { connection in
            if let answer { try IdempotencyRecords.insert(answer, in: connection) }
            if let existing = try AssignmentRecords.live(group: assignment.groupID, in: connection) {
                throw AssignmentError.groupAssigned(group: assignment.groupID, assignmentID: caller.sees(existing) ? existing.id : nil)
            }
            try AssignmentRecords.insert(assignment, in: connection)
            try OperationRecords.insert(operation, in: connection)
            try Audit.assignment("assignment.created", assignment, caller: caller, before: nil,
                                 detail: "holder \(assignment.holder.id); bind \(operation.id) queued", in: connection)
        }
        Trace.mark(operation.id, "committed")
        CrashPoints.pass(named: "assignment created")
        published(assignment)
        inventory.republish()
        do {
            try submit(operation, for: assignment)
        } catch {
            let failed: Assignment
            do {
                failed = try await finishWithoutRunning(assignment, operation, reason: "the worker queue is full",
                                                        forgetting: answer)
            } catch {
                // Neither queued nor marked failed: resolved (rolled back) like a paused operation once a write
                // commits, rather than left binding until the next start.
                park(operation.id, journal: nil)
                throw error
            }
            published(failed)
            inventory.republish()
            throw AssignmentError.busy
        }
        Trace.mark(operation.id, "queued")
        return assignment
    }

    private func resolveGroup(_ target: CreateAssignmentRequest.Target, in snapshot: InventorySnapshot) throws -> IOMMUGroup {
        switch target {
        case .device(let text):
            guard let address = PCIAddress(text), let device = snapshot.device(address) else { throw AssignmentError.unknownDevice(text) }
            guard let id = device.facts.iommuGroup, let group = snapshot.group(id) else {
                throw AssignmentError.notAssignable(group: -1, blockers: ["\(address) has no IOMMU group"])
            }
            return group
        case .group(let id):
            guard let group = snapshot.group(id) else { throw AssignmentError.unknownGroup(id) }
            return group
        }
    }

    /// Marks an accepted assignment failed when its operation could not even be queued, and removes the
    /// stored answer that announced it.
    private func finishWithoutRunning(_ assignment: Assignment, _ operation: GroupOperation, reason: String,
                                      forgetting answer: IdempotencyRecord?) async throws -> Assignment {
        var failed = assignment
        failed.state = .failed
        failed.failure = reason
        failed.generation += 1
        failed.updatedAt = now()
        let frozen = failed
        let at = now()
        try await database.write { connection in
            try AssignmentRecords.update(frozen, in: connection)
            try OperationRecords.setState(operation.id, .failed, error: reason, at: at, in: connection)
            try Audit.assignment("assignment.failed", frozen, caller: .system, before: assignment.state,
                                 detail: reason, in: connection)
            if let answer { try IdempotencyRecords.delete(answer, in: connection) }
        }
        waiters.finished(operation.id)
        return failed
    }
}
