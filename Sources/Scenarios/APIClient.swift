import Foundation
import TestSupport

/// A JSON object as `JSONSerialization` reads it.
typealias JSONObject = [String: Any]

/// One answer of vfiod: status, the body parsed as a JSON object (empty when it is not one), the raw response.
struct APIResponse {
    let status: Int
    let json: JSONObject
    let raw: TestResponse

    /// `items` of a list body.
    var items: [JSONObject] { json["items"] as? [JSONObject] ?? [] }
    /// The problem `code` of an error body.
    var code: String? { json["code"] as? String }
    /// `METHOD path → status code: detail`, for failure reasons.
    func describe(_ what: String) -> String {
        "\(what) → \(status) \(code ?? "") \(json["detail"] as? String ?? String(raw.bodyText.prefix(300)))"
    }
}

/// Blocking JSON requests to one vfiod, each on a fresh connection (so a restart never leaves a dead one).
struct APIClient {
    let port: UInt16

    /// Sends `method path` with `body` encoded as JSON. Throws ``ScenarioFailure`` when vfiod does not answer.
    func send(_ method: String, _ path: String, body: Any? = nil, timeoutSeconds: Int = 90) throws -> APIResponse {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let client = HTTPTestClient(port: port, receiveTimeoutSeconds: timeoutSeconds)
        defer { client.close() }
        let response: TestResponse
        do {
            response = try client.request(method: method, path: path,
                                          headers: body == nil ? [] : [("Content-Type", "application/json")], body: bytes)
        } catch {
            throw ScenarioFailure("\(method) \(path): no answer from vfiod (\(error))")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? JSONObject ?? [:]
        return APIResponse(status: response.status, json: json, raw: response)
    }

    /// `GET path`, which must answer 200.
    func get(_ path: String) throws -> APIResponse {
        let response = try send("GET", path)
        try check(response.status == 200, response.describe("GET \(path)"))
        return response
    }

    /// Every item of a paged list (`pageSize=1000`, following `nextPageToken`).
    func list(_ path: String) throws -> [JSONObject] {
        var items: [JSONObject] = []
        var token: String?
        let separator = path.contains("?") ? "&" : "?"
        repeat {
            let page = try get(path + separator + "pageSize=1000" + (token.map { "&pageToken=" + $0 } ?? ""))
            items += page.items
            token = page.json["nextPageToken"] as? String
        } while token != nil
        return items
    }
}
