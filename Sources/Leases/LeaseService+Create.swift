import Foundation
import Inventory
import Store
import VFIOCore

extension LeaseService {
    /// Creates an assignment and queues its bind; answers with the response `render` makes of the outcome.
    ///
    /// With an `idempotencyKey`, the first response is stored and replayed for the same key and body;
    /// another body with the same key throws `idempotencyMismatch`, and a duplicate that arrives while
    /// the first is still being answered throws `idempotencyInProgress`.
    public func create(_ request: CreateAssignmentRequest, caller: Caller, idempotencyKey: String?, requestHash: String,
                       render: @escaping @Sendable (Result<(Assignment, GroupOperation), LeaseError>) -> StoredResponse)
        async throws -> StoredResponse {
        if let key = idempotencyKey, let replay = try await reserve(key: key, hash: requestHash, caller: caller) {
            return replay
        }
        let result: Result<(Assignment, GroupOperation), LeaseError>
        do {
            result = .success(try await createAssignment(request, caller: caller))
        } catch let error as LeaseError {
            result = .failure(error)
        } catch {
            if let key = idempotencyKey { try? await forget(key: key, caller: caller) }
            throw error
        }
        let response = render(result)
        if let key = idempotencyKey, response.status < 500 {
            try await remember(key: key, caller: caller, response: response)
        } else if let key = idempotencyKey {
            try? await forget(key: key, caller: caller)
        }
        return response
    }

    private func createAssignment(_ request: CreateAssignmentRequest, caller: Caller) async throws -> (Assignment, GroupOperation) {
        if let tenant = caller.tenant, tenant != request.holder.tenant { throw LeaseError.tenantMismatch(tenant) }
        let snapshot = inventory.current
        let group = try resolveGroup(request.target, in: snapshot)
        let members = group.devices.compactMap { snapshot.device($0) }
        if let (id, _) = live.assignment(group: group.id) { throw LeaseError.groupAssigned(group: group.id, assignmentID: id) }
        let blockers = members.filter { !InventoryBuilder.isBridgeClass($0.facts) && $0.state != .available }
            .map { "\($0.address) is \($0.state.rawValue): \($0.stateReason)" }
            + members.compactMap(InventoryBuilder.bridgeBlocker)
        guard blockers.isEmpty, members.contains(where: { !InventoryBuilder.isBridgeClass($0.facts) }) else {
            throw LeaseError.notAssignable(group: group.id, blockers: blockers.isEmpty ? ["the group has no endpoint"] : blockers)
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
        try await database.write { connection in
            if let existing = try AssignmentRecords.live(group: group.id, in: connection) {
                throw LeaseError.groupAssigned(group: group.id, assignmentID: existing.id)
            }
            try AssignmentRecords.insert(assignment, in: connection)
            try OperationRecords.insert(operation, in: connection)
            try Audit.assignment("assignment.created", assignment, caller: caller, before: nil,
                                 detail: "holder \(assignment.holder.id); bind \(operation.id) queued", in: connection)
        }
        live.set(assignment)
        inventory.republish()
        do {
            try submit(operation, for: assignment)
        } catch {
            let failed = try await finishWithoutRunning(assignment, operation, reason: "the worker queue is full")
            live.set(failed)
            inventory.republish()
            throw LeaseError.busy
        }
        return (assignment, operation)
    }

    private func resolveGroup(_ target: CreateAssignmentRequest.Target, in snapshot: InventorySnapshot) throws -> IOMMUGroup {
        switch target {
        case .device(let text):
            guard let address = PCIAddress(text), let device = snapshot.device(address) else { throw LeaseError.unknownDevice(text) }
            guard let id = device.facts.iommuGroup, let group = snapshot.group(id) else {
                throw LeaseError.notAssignable(group: -1, blockers: ["\(address) has no IOMMU group"])
            }
            return group
        case .group(let id):
            guard let group = snapshot.group(id) else { throw LeaseError.unknownGroup(id) }
            return group
        }
    }

    /// Marks an accepted assignment failed when its operation could not even be queued.
    func finishWithoutRunning(_ assignment: Assignment, _ operation: GroupOperation, reason: String) async throws -> Assignment {
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
        }
        waiters.finished(operation.id)
        return failed
    }

    // MARK: Idempotency keys

    private func reserve(key: String, hash: String, caller: Caller) async throws -> StoredResponse? {
        let at = now()
        return try await database.write { connection -> StoredResponse? in
            let rows = try connection.query("""
                SELECT request_hash, status, body, assignment_id, created_at FROM idempotency_keys WHERE actor = ? AND key = ?
                """, bindings: [.text(caller.name), .text(key)]) { row in
                (row.string(0), row.nullableInt64(1), row.nullableBlob(2), row.nullableString(3), row.string(4))
            }
            if let (storedHash, status, body, assignmentID, createdAt) = rows.first {
                guard storedHash == hash else { throw LeaseError.idempotencyMismatch }
                if let status { return StoredResponse(status: Int(status), body: body ?? [], assignmentID: assignmentID) }
                let abandoned = Timestamp.parse(createdAt).map { at.timeIntervalSince($0) > 60 } ?? true
                guard abandoned else { throw LeaseError.idempotencyInProgress }
                try connection.run("DELETE FROM idempotency_keys WHERE actor = ? AND key = ?",
                                   bindings: [.text(caller.name), .text(key)])
            }
            try connection.run("""
                INSERT INTO idempotency_keys (actor, key, request_hash, created_at) VALUES (?, ?, ?, ?)
                """, bindings: [.text(caller.name), .text(key), .text(hash), .text(Timestamp.format(at))])
            return nil
        }
    }

    private func remember(key: String, caller: Caller, response: StoredResponse) async throws {
        try await database.write { connection in
            try connection.run("UPDATE idempotency_keys SET status = ?, body = ?, assignment_id = ? WHERE actor = ? AND key = ?",
                               .integer(Int64(response.status)), .blob(response.body), SQLValue(response.assignmentID),
                               .text(caller.name), .text(key))
        }
    }

    private func forget(key: String, caller: Caller) async throws {
        try await database.write { connection in
            try connection.run("DELETE FROM idempotency_keys WHERE actor = ? AND key = ? AND status IS NULL",
                               .text(caller.name), .text(key))
        }
    }
}
