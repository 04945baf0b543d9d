import Foundation
import TestSupport

/// One kept-alive connection to vfiod (as an orchestrator's HTTP client keeps one), whose requests are
/// timed from just before the first byte is sent to just after the last byte arrives: encoding the body
/// and parsing the answer are the client's work and stay outside the clock.
final class TimedClient {
    private let client: HTTPTestClient

    init(_ api: APIClient) {
        client = HTTPTestClient(port: api.port, receiveTimeoutSeconds: 90)
    }

    deinit { client.close() }

    /// Sends one request; returns the response, when sending began and when the response had arrived.
    func exchange(_ method: String, _ path: String, body: [UInt8] = []) throws -> (response: TestResponse, sent: Date, received: Date) {
        let headers = body.isEmpty ? [] : [("Content-Type", "application/json")]
        let sent = Date()
        let response: TestResponse
        do {
            response = try client.request(method: method, path: path, headers: headers, body: body)
        } catch {
            throw ScenarioFailure("\(method) \(path): no answer from vfiod (\(error))")
        }
        return (response, sent, Date())
    }

    /// Follows `location` with `?wait=30` until the operation is final: the operation and when its
    /// answer arrived.
    func follow(_ location: String) throws -> (operation: JSONObject, received: Date) {
        for _ in 0..<20 {
            let (response, _, received) = try exchange("GET", location + "?wait=30")
            let operation = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? JSONObject ?? [:]
            try check(response.status == 200, "GET \(location) → \(response.status) \(response.bodyText.prefix(300))")
            if APIClient.finalStates.contains(operation.string("state")) { return (operation, received) }
        }
        throw ScenarioFailure("operation \(location) did not finish within 10 minutes")
    }
}
