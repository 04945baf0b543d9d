import Foundation
import HTTPServer
import Assignments
import VFIOCore
import Store
import ServiceLog

extension RouteTable {
    mutating func addAssignmentRoutes() {
        route("POST", "/v1/assignments", .lease) { [context] request, principal throws(APIError) in
            try await context.postAssignment(request, principal)
        }
        route("GET", "/v1/assignments", .read) { [context] request, principal throws(APIError) in
            try await context.listAssignments(request, principal)
        }
        let reads = context.assignmentReads
        route("GET", "/v1/assignments/{id}", .read, immediate: { [context] request, principal in
            guard request.query.isEmpty,
                  let (response, auditSeq) = reads.response(request.pathParameters["id"] ?? "",
                                                            tenant: context.caller(request, principal).tenant)
            else { return nil }
            // Nothing was committed since the read it keeps: its audit seq is still the head.
            return context.withCursor(response, auditSeq: auditSeq, before: context.events.current)
        }) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let (before, head, version) = (context.events.current, AuditHeadCapture(), reads.versionBeforeRead())
            let assignment = try await context.withAssignments {
                try await $0.assignment(request.pathParameters["id"] ?? "", caller: context.caller(request, principal), head: head)
            }
            reads.store(assignment, version: version, auditSeq: head.value)
            return context.withCursor(context.assignmentResponse(assignment, status: 200, request), auditSeq: head.value, before: before)
        }
        route("POST", "/v1/assignments/{id}/renew", .lease) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var ttl: Int?
            if !request.body.isEmpty {
                try JSONBody.checkMediaType(request)
                let object = try JSONObject.parse(request.body)
                if object.keys.contains(where: { $0 != "ttlSeconds" }) { throw AssignmentBody.invalid("renew takes only ttlSeconds") }
                if let value = object["ttlSeconds"] { ttl = try AssignmentBody.ttlSeconds(value) }
            }
            let generation = try AssignmentETag.generation(ifMatch: request.header("If-Match"))
            let id = request.pathParameters["id"] ?? ""
            let caller = context.caller(request, principal)
            let renewed = try await context.withAssignments { try await $0.renew(id, ttlSeconds: ttl, ifMatch: generation, caller: caller) }
            return context.assignmentResponse(renewed, status: 200, request)
        }
        route("DELETE", "/v1/assignments/{id}", .lease) { [context] request, principal throws(APIError) in
            let received = Date()
            _ = try QueryParameters(request.query, allowed: [])
            let id = request.pathParameters["id"] ?? ""
            let caller = context.caller(request, principal)
            let (assignment, operation) = try await context.withAssignments { try await $0.release(id, caller: caller) }
            var response = context.assignmentResponse(assignment, status: 202, request)
            response.headers.append(("Operation-Location", "/v1/operations/\(operation.id)"))
            Trace.mark(operation.id, "received", at: received)
            Trace.mark(operation.id, "answered")
            return response
        }
        route("GET", "/v1/operations/{id}", .read) { [context] request, principal throws(APIError) in
            let query = try QueryParameters(request.query, allowed: ["wait"])
            var wait = 0.0
            if let text = query["wait"] {
                guard let seconds = Double(text), seconds >= 0, seconds <= 60 else {
                    throw .invalidParameter("wait", "must be seconds from 0 to 60")
                }
                wait = seconds
            }
            let id = request.pathParameters["id"] ?? ""
            let caller = context.caller(request, principal)
            let (before, head) = (context.events.current, AuditHeadCapture())
            let operation = try await context.withAssignments { try await $0.operation(id, caller: caller, waitSeconds: wait, head: head) }
            if wait > 0, operation.state.isFinished { Trace.mark(id, "wait-answered") }
            return context.withCursor(.json(AssignmentJSON.operation(operation)), auditSeq: head.value, before: before)
        }
    }
}

extension APIContext {
    /// The lease service's view of who is asking.
    func caller(_ request: HTTPRequest, _ principal: Principal) -> Caller {
        Caller(name: principal.name, tenant: principal.role == .operator ? principal.tenant : nil, requestID: request.requestID)
    }

    /// Runs a lease call, mapping its errors to problems.
    func withAssignments<T>(_ body: (AssignmentService) async throws -> T) async throws(APIError) -> T {
        do { return try await body(assignments) } catch { throw .store(error) }
    }

    func assignmentResponse(_ assignment: Assignment, status: Int, _ request: HTTPRequest) -> HTTPResponse {
        var response = HTTPResponse.json(AssignmentJSON.assignment(assignment), status: status)
        response.headers.append(("ETag", AssignmentETag.of(generation: assignment.generation)))
        return response
    }

    func listAssignments(_ request: HTTPRequest, _ principal: Principal) async throws(APIError) -> HTTPResponse {
        let query = try QueryParameters(request.query, allowed: ["state", "holder", "tenant", "device", "pageSize", "pageToken"])
        var filter = AssignmentFilter()
        if let text = query["state"] {
            guard let state = AssignmentState(rawValue: text) else {
                throw .invalidParameter("state", "must be one of " + AssignmentState.allCases.map(\.rawValue).joined(separator: ", "))
            }
            filter.state = state
        }
        filter.holder = query["holder"]
        filter.tenant = query["tenant"]
        if let device = query["device"] {
            guard PCIAddress(device) != nil else { throw .invalidAddress(device) }
            filter.device = device
        }
        let size = try Paging.size(query["pageSize"])
        let key = [filter.state?.rawValue, filter.holder, filter.tenant, filter.device].map { $0 ?? "" }.joined(separator: ",")
        var after: String?
        if let text = query["pageToken"] {
            after = try PageToken(decoding: text, kind: "assignments", filterKey: key).lastKey
        }
        let caller = caller(request, principal)
        let (before, head) = (events.current, AuditHeadCapture())
        let page = try await withAssignments { try await $0.assignments(filter, after: after, limit: size + 1, caller: caller, head: head) }
        let items = Array(page.prefix(size))
        let next = page.count > size ? items.last.map { PageToken(kind: "assignments", lastKey: $0.id, filterKey: key).encoded } : nil
        return withCursor(.json(AssignmentJSON.list(items, nextPageToken: next)), auditSeq: head.value, before: before)
    }
}
