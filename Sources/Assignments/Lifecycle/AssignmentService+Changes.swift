import ServiceLog
import Foundation
import Store
import VFIOCore

extension AssignmentService {
    /// Extends an active (or binding) lease by `ttlSeconds` from now. `ifMatch` is the generation the
    /// caller last saw; any other than the assignment's throws `staleGeneration`.
    public func renew(_ id: String, ttlSeconds: Int?, ifMatch: Int64?, caller: Caller) async throws -> Assignment {
        guard Identifier.isWellFormed(id, prefix: "asg") else { throw AssignmentError.notFound(id) }
        let at = now()
        let maxTTL = maxTTLSeconds
        let renewed = try await database.write { connection -> Assignment in
            // Read, check and change in one transaction: another tenant's assignment is "not found".
            guard var assignment = try AssignmentRecords.get(id, in: connection), caller.sees(assignment) else {
                throw AssignmentError.notFound(id)
            }
            let before = assignment.state
            if let ifMatch, ifMatch != assignment.generation { throw AssignmentError.staleGeneration(current: assignment.generation, sent: ifMatch) }
            guard assignment.state == .active || assignment.state == .binding else {
                throw AssignmentError.wrongState(id, assignment.state)
            }
            if let ttlSeconds { assignment.ttlSeconds = min(ttlSeconds, maxTTL) }
            assignment.expiresAt = at.addingTimeInterval(Double(assignment.ttlSeconds))
            assignment.generation += 1
            assignment.updatedAt = at
            try AssignmentRecords.update(assignment, in: connection)
            try Audit.assignment("assignment.renewed", assignment, caller: caller, before: before,
                                 detail: "expires at \(Timestamp.format(assignment.expiresAt))", in: connection)
            return assignment
        }
        return renewed
    }

    /// Starts giving the group back: `releasing` now, original drivers restored by a worker.
    /// `reason` is `requested` for a DELETE, `expired` for an expiry.
    public func release(_ id: String, caller: Caller, reason: String = "requested") async throws -> (Assignment, GroupOperation) {
        guard Identifier.isWellFormed(id, prefix: "asg") else { throw AssignmentError.notFound(id) }
        let at = now()
        let (assignment, operation) = try await database.write { connection -> (Assignment, GroupOperation) in
            guard var assignment = try AssignmentRecords.get(id, in: connection), caller.sees(assignment) else {
                throw AssignmentError.notFound(id)
            }
            if assignment.state == .releasing,
               let pending = try OperationRecords.of(assignment: id, releasesOnly: true, in: connection).last {
                return (assignment, pending)
            }
            guard assignment.state == .active || assignment.state == .binding else {
                throw AssignmentError.wrongState(id, assignment.state)
            }
            let before = assignment.state
            assignment.state = .releasing
            assignment.releaseReason = reason
            assignment.generation += 1
            assignment.updatedAt = at
            let operation = GroupOperation(id: Identifier.make("op", at: at), kind: .release, assignmentID: id,
                                      groupID: assignment.groupID, state: .queued, reason: reason, createdAt: at,
                                      requestID: caller.requestID, actor: caller.name, steps: [])
            try AssignmentRecords.update(assignment, in: connection)
            try OperationRecords.insert(operation, in: connection)
            let action = reason == "expired" ? "assignment.expired" : "assignment.releasing"
            try Audit.assignment(action, assignment, caller: caller, before: before,
                                 detail: "release \(operation.id) queued (\(reason))", in: connection)
            return (assignment, operation)
        }
        Trace.mark(operation.id, "committed")
        published(assignment)
        inventory.republish()
        if releasesStarted.insert(operation.id) { startCooperativeRelease(operation, assignment) }
        return (assignment, operation)
    }

    /// Starts a release for every active lease past its `expiresAt`. Returns how many it started.
    @discardableResult
    public func expireDue(asOf time: Date? = nil) async -> Int {
        let at = time ?? now()
        let due: [String]
        do {
            due = try await store { database in
                try database.read { try AssignmentRecords.expired(asOf: at, in: $0) }
            }
        } catch {
            Log.warning("expiry check failed (retried on the next tick): \(error)")
            return 0
        }
        var started = 0
        for id in due {
            do {
                _ = try await release(id, caller: .system, reason: "expired")
                started += 1
            } catch is AssignmentError {
                continue  // released or renewed meanwhile: nothing to expire
            } catch {
                Log.warning("expiring \(id) failed (retried on the next tick): \(error)")
            }
        }
        return started
    }
}
