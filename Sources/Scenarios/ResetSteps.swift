import Foundation

/// The reset routes (`GET …/reset-scope`, `POST …/reset`, `DELETE …/quarantine`).
extension APIClient {
    /// `GET /v1/devices/ADDRESS/reset-scope?method=METHOD`.
    func resetScope(_ address: String, method: String) throws -> JSONObject {
        let response = try send("GET", "/v1/devices/\(address)/reset-scope?method=\(method)")
        try check(response.status == 200, response.describe("GET /v1/devices/\(address)/reset-scope?method=\(method)"))
        return response.json
    }

    /// `POST /v1/devices/ADDRESS/reset` with `{"method": METHOD}`.
    func requestReset(_ address: String, method: String) throws -> APIResponse {
        let response = try send("POST", "/v1/devices/\(address)/reset", body: ["method": method])
        return response
    }

    /// Resets and follows the operation, which must be a `reset` of `address`; returns it (any final state).
    func reset(_ address: String, method: String) throws -> JSONObject {
        let response = try requestReset(address, method: method)
        let operation = try follow(try operationLocation(response, "POST /v1/devices/\(address)/reset \(method)"))
        try check(operation.string("kind") == "reset" && operation.string("target") == address,
                  "the reset's operation is kind \(operation.string("kind")) target \(operation.string("target"))")
        return operation
    }

    /// `DELETE /v1/devices/ADDRESS/quarantine` and follows the `restore`.
    func restoreFromQuarantine(_ address: String) throws -> JSONObject {
        let response = try send("DELETE", "/v1/devices/\(address)/quarantine")
        let operation = try follow(try operationLocation(response, "DELETE /v1/devices/\(address)/quarantine"))
        try check(operation.string("kind") == "restore", "the quarantine's DELETE ran a \(operation.string("kind")), expected restore")
        return operation
    }
}

/// The reset scope's entry for `address`.
func scopeEntry(_ scope: JSONObject, _ address: String) -> JSONObject? {
    (scope["devices"] as? [JSONObject] ?? []).first { $0.string("address") == address }
}

/// The JSON of `object` as text, to look for a word anywhere in an operation's steps and detail.
func jsonText(_ object: JSONObject) -> String {
    (try? JSONSerialization.data(withJSONObject: object)).map { String(decoding: $0, as: UTF8.self) } ?? ""
}
