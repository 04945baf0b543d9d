import Foundation
import HTTPServer
import Assignments
import Store
import ServiceLog

/// `POST /v1/assignments`, and its `Idempotency-Key`: the one place that knows how a keyed request is
/// answered again.
///
/// A key's answer is stored in the same transaction as the assignment it created (the lease service
/// writes the record it is given, without reading it), so a key is either unused or answered: a crash
/// leaves no key "in progress", and a retry never creates a second assignment. A refusal changed nothing
/// and is not stored: a retry is judged afresh.
extension APIContext {
    func postAssignment(_ request: HTTPRequest, _ principal: Principal) async throws(APIError) -> HTTPResponse {
        let received = Date()
        _ = try QueryParameters(request.query, allowed: [])
        try JSONBody.checkMediaType(request)
        let body = try AssignmentBody.parse(request.body, callbackHosts: callbackHosts)
        let key = request.header("Idempotency-Key")
        if let key, key.isEmpty || key.utf8.count > 128 {
            throw APIError(400, "invalid_header", "Invalid header", "Idempotency-Key must be 1–128 characters")
        }
        let caller = caller(request, principal)
        // Only a keyed request is compared with the answer stored under its key.
        let hash = key == nil ? "" : AssignmentBody.hash(body)
        if let key, let stored = try await storedAnswer(actor: caller.name, key: key) {
            return try Self.replay(stored, hash: hash)
        }
        let plan: AssignmentPlan
        do {
            plan = try await withAssignments { try $0.planAssignment(body, caller: caller) }
        } catch {
            // A copy of this request may have created the assignment since the key was looked up: then the
            // group is taken by it, and this request gets its answer, not a refusal.
            if let key, let stored = try await storedAnswer(actor: caller.name, key: key) {
                return try Self.replay(stored, hash: hash)
            }
            throw error
        }
        Trace.mark(plan.operation.id, "received", at: received)
        let response = Self.accepted(plan)
        let answer = key.map {
            IdempotencyRecord(actor: caller.name, key: $0, requestHash: hash, status: response.status, body: response.body,
                              assignmentID: plan.assignment.id, operationID: plan.operation.id,
                              createdAt: Timestamp.format(plan.assignment.createdAt))
        }
        do {
            _ = try await assignments.startAssignment(plan, caller: caller, answer: answer)
        } catch let taken as IdempotencyKeyTaken {
            // A copy of this request committed first: answer as it was answered.
            guard let stored = try await storedAnswer(actor: taken.actor, key: taken.key) else { throw .store(taken) }
            return try Self.replay(stored, hash: hash)
        } catch {
            throw .store(error)
        }
        Trace.mark(plan.operation.id, "answered")
        return response
    }

    /// `202` with the assignment, `Location` and `Operation-Location`.
    private static func accepted(_ plan: AssignmentPlan) -> HTTPResponse {
        answer(status: 202, body: AssignmentJSON.assignment(plan.assignment), assignmentID: plan.assignment.id,
               operationID: plan.operation.id)
    }

    private static func answer(status: Int, body: [UInt8], assignmentID: String, operationID: String) -> HTTPResponse {
        var response = HTTPResponse.json(body, status: status)
        response.headers.append(("Location", "/v1/assignments/\(assignmentID)"))
        response.headers.append(("Operation-Location", "/v1/operations/\(operationID)"))
        return response
    }

    /// The stored answer, byte for byte; a key first used with another body is refused.
    private static func replay(_ stored: IdempotencyRecord, hash: String) throws(APIError) -> HTTPResponse {
        guard stored.requestHash == hash else {
            throw APIError(422, "idempotency_key_reused", "Idempotency key reused",
                           "this Idempotency-Key was first used with another request body")
        }
        return answer(status: stored.status, body: stored.body, assignmentID: stored.assignmentID, operationID: stored.operationID)
    }

    private func storedAnswer(actor: String, key: String) async throws(APIError) -> IdempotencyRecord? {
        try await withAssignments { service in
            try await service.store { database in
                try database.read { try IdempotencyRecords.get(actor: actor, key: key, in: $0) }
            }
        }
    }
}
