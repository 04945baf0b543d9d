import Foundation

/// A lease that reached `active`.
struct ActiveLease {
    let id: String
    let group: Int
    let devicePaths: [String]
    let assignment: JSONObject
}

/// The lease round trip and operation following, as every scenario uses them.
extension APIClient {
    /// Operation states after which nothing changes.
    static let finalStates: Set<String> = ["succeeded", "failed", "completed_on_recovery", "rolled_back"]

    /// `POST /v1/assignments` with `target` (`["device": a]` or `["group": n]`) and `extra` members.
    func requestLease(_ target: JSONObject, extra: JSONObject = [:], holder: String = "scenario-vm") throws -> APIResponse {
        var body: JSONObject = ["holder": ["id": holder, "tenant": "lab"], "ttlSeconds": 600]
        body.merge(target) { _, new in new }
        body.merge(extra) { _, new in new }
        return try send("POST", "/v1/assignments", body: body)
    }

    /// Follows `location` (`/v1/operations/ID`) with `?wait=30` until the operation is final; returns it.
    func follow(_ location: String) throws -> JSONObject {
        for _ in 0..<20 {
            let operation = try get(location + "?wait=30").json
            if Self.finalStates.contains(operation.string("state")) { return operation }
        }
        throw ScenarioFailure("operation \(location) did not finish within 10 minutes")
    }

    /// The `Operation-Location` of a 202, or a failure naming what was sent.
    func operationLocation(_ response: APIResponse, _ what: String) throws -> String {
        try check(response.status == 202, response.describe(what))
        guard let location = response.raw.header("Operation-Location") else {
            throw ScenarioFailure("\(what) → 202 without Operation-Location")
        }
        return location
    }

    /// Leases `target` and waits for the bind: the assignment must be `active`.
    func lease(_ target: JSONObject, extra: JSONObject = [:]) throws -> ActiveLease {
        let created = try requestLease(target, extra: extra)
        let location = try operationLocation(created, "POST /v1/assignments \(target)")
        let operation = try follow(location)
        let id = created.json.string("id")
        try check(operation.string("state") == "succeeded",
                  "bind of \(target) ended \(operation.string("state")): \(operation.optionalString("error") ?? "")")
        let assignment = try get("/v1/assignments/\(id)").json
        try check(assignment.string("state") == "active", "assignment \(id) is \(assignment.string("state")) after its bind")
        return ActiveLease(id: id, group: assignment.int("group") ?? -1,
                           devicePaths: assignment["devicePaths"] as? [String] ?? [], assignment: assignment)
    }

    /// `DELETE /v1/assignments/ID` and follows the release; returns the final operation.
    func releaseOperation(_ id: String) throws -> JSONObject {
        let response = try send("DELETE", "/v1/assignments/\(id)")
        return try follow(try operationLocation(response, "DELETE /v1/assignments/\(id)"))
    }

    /// Releases and requires the release to succeed and the assignment to be `released`.
    func release(_ id: String) throws {
        let operation = try releaseOperation(id)
        try check(operation.string("state") == "succeeded",
                  "release of \(id) ended \(operation.string("state")): \(operation.optionalString("error") ?? "")")
        let assignment = try get("/v1/assignments/\(id)").json
        try check(assignment.string("state") == "released", "assignment \(id) is \(assignment.string("state")) after its release")
    }

    /// `GET /v1/devices/ADDRESS`.
    func device(_ address: String) throws -> JSONObject {
        try get("/v1/devices/\(address)").json
    }

    /// Requires `address` to be on `driver` (`nil`: unbound) and in `state`, as the inventory reports it.
    func expectDevice(_ address: String, driver: String?, state: String, _ when: String) throws {
        let device = try device(address)
        try check(device.optionalString("driver") == driver && device.string("state") == state,
                  "\(when): \(address) is on \(device.optionalString("driver") ?? "no driver") in state \(device.string("state")), expected \(driver ?? "no driver") / \(state)")
    }
}
