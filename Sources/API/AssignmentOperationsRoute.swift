import HTTPServer

/// `GET /v1/assignments/{id}/operations`: every operation of an assignment, oldest first, so a client that
/// did not start them (a dashboard) finds the bind, the release and the resets of a lease.
extension RouteTable {
    mutating func addAssignmentOperationsRoute() {
        route("GET", "/v1/assignments/{id}/operations", .read) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let id = request.pathParameters["id"] ?? ""
            let caller = context.caller(request, principal)
            let operations = try await context.withAssignments { try await $0.operations(ofAssignment: id, caller: caller) }
            return .json(ListBody.make(items: operations.map(AssignmentJSON.operation), nextPageToken: nil))
        }
    }
}
