import Foundation
import Testing
import TestSupport

/// Each bad request gets its documented problem, and the server keeps serving.
@Suite struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let method: String
        let path: String
        let status: Int
        let code: String
        /// A JSON request body, sent as `contentType`; none when nil.
        var body: String? = nil
        var contentType = "application/json"
        /// Send the body in UTF-16 (little-endian) instead of UTF-8.
        var utf16 = false
        var description: String { "\(method) \(path)\(body.map { " " + $0 } ?? "") → \(status) \(code)" }

        /// The body's bytes as sent.
        var bytes: [UInt8] {
            guard let body else { return [] }
            return utf16 ? body.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } : Array(body.utf8)
        }
    }

    /// A body for `POST /v1/assignments` that is valid but for `extra`.
    static func assignment(_ extra: String) -> String {
        #"{"device": "0000:00:02.0", "holder": {"id": "vm", "tenant": "t"}, "# + extra + "}"
    }

    static let cases: [Case] = [
        Case(method: "GET", path: "/v1/devices/0000:41:00.8", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:41:0.0", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:41:00.0x", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:4G:00.0", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:41:20.0", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:41:00.0%2F..%2F..%2Fetc", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/%2e%2e", status: 400, code: "malformed_path"),
        Case(method: "GET", path: "/v1/devices/..%2F..%2Fkernel", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/../../etc/passwd", status: 400, code: "malformed_path"),
        Case(method: "GET", path: "/v1/devices/0000:41:00.0%", status: 400, code: "malformed_path"),
        Case(method: "GET", path: "/v1/devices/0000:99:00.0", status: 404, code: "device_not_found"),
        Case(method: "GET", path: "/v1/devices/123456789:00:00.0", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/groups/abc", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/groups/-1", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/groups/99999999999999999999", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/groups/4242", status: 404, code: "group_not_found"),
        Case(method: "GET", path: "/v1/groups/+1", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/groups/%2B1", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/groups/%201", status: 400, code: "invalid_group_id"),
        Case(method: "GET", path: "/v1/devices?colour=red", status: 400, code: "unknown_parameter"),
        Case(method: "GET", path: "/v1/devices?pageSize=0", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?pageSize=10001", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?pageSize=99999999999999999999999", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?pageSize=ten", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?pageSize=5&pageSize=6", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?vendorId=nvidia", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?classCode=3", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?state=busy", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?iommuGroup=x", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/groups?viable=maybe", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices?pageToken=forged", status: 400, code: "invalid_page_token"),
        Case(method: "GET", path: "/v1/devices?pageToken=Z3JvdXBzfDN8", status: 400, code: "invalid_page_token"),
        Case(method: "GET", path: "/v1/devices?pageToken=%FF%FE", status: 400, code: "malformed_query"),
        Case(method: "GET", path: "/v1/groups?pageToken=ZGV2aWNlc3wwMDAwOjAwOjAyLjB8", status: 400, code: "invalid_page_token"),
        Case(method: "GET", path: "/v1/devices?vendorId=%ZZ", status: 400, code: "malformed_query"),
        Case(method: "GET", path: "/v1/host?verbose=1", status: 400, code: "unknown_parameter"),
        Case(method: "GET", path: "/v1/nothing", status: 404, code: "route_not_found"),
        Case(method: "GET", path: "/v2/devices", status: 404, code: "route_not_found"),
        Case(method: "DELETE", path: "/v1/devices", status: 405, code: "method_not_allowed"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0", status: 405, code: "method_not_allowed"),
        Case(method: "PUT", path: "/healthz", status: 405, code: "method_not_allowed"),
        // The reset preview, the reset and the quarantine clear.
        Case(method: "GET", path: "/v1/devices/0000:00:02.0/reset-scope?colour=red", status: 400, code: "unknown_parameter"),
        Case(method: "GET", path: "/v1/devices/0000:00:02.0/reset-scope?method=warm", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices/0000:00:02.0/reset-scope?method=hot&method=hot", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/devices/0000:41:00.8/reset-scope", status: 400, code: "invalid_address"),
        Case(method: "GET", path: "/v1/devices/0000:99:00.0/reset-scope", status: 404, code: "device_not_found"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset?method=hot", status: 400, code: "unknown_parameter"),
        Case(method: "POST", path: "/v1/devices/0000:41:00.8/reset", status: 400, code: "invalid_address"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "malformed_body", body: "[1, 2]"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "malformed_body", body: "{\"method\": "),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "invalid_body", body: #"{"method": "warm"}"#),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "invalid_body", body: #"{"method": 1}"#),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "invalid_body", body: #"{"method": null}"#),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "invalid_body", body: #"{"method": "hot", "force": true}"#),
        Case(method: "POST", path: "/v1/devices/0000:99:00.0/reset", status: 404, code: "device_not_found"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 409, code: "reset_not_possible", body: #"{"method": "function"}"#),
        Case(method: "DELETE", path: "/v1/devices/0000:00:02.0/quarantine?force=1", status: 400, code: "unknown_parameter"),
        Case(method: "DELETE", path: "/v1/devices/0000:41:0.0/quarantine", status: 400, code: "invalid_address"),
        Case(method: "DELETE", path: "/v1/devices/0000:00:02.0/quarantine", status: 404, code: "not_quarantined"),
        Case(method: "DELETE", path: "/v1/devices/0000:99:00.0/quarantine", status: 404, code: "not_quarantined"),
        Case(method: "GET", path: "/v1/devices/0000:00:02.0/reset", status: 405, code: "method_not_allowed"),
        // The release policy of POST /v1/assignments.
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "https://orchestrator.example/release""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "http://""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "http://user@host/""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "http://host:0/""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": 80"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""escalation": "nuke""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""escalation": null"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseGraceSeconds": -1"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseGraceSeconds": 86401"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseGraceSeconds": 1.5"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseGraceSeconds": "30""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseGraceSeconds": true"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""releaseTimeoutSeconds": 86401"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "http://127.0.0.1/a\u0000b""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""callbackUrl": "http://127.0.0.1/caf\u00e9""#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "callback_host_not_allowed",
             body: assignment(#""callbackUrl": "http://192.0.2.1:8080/release""#)),
        // Numbers and times at their edges.
        Case(method: "POST", path: "/v1/assignments", status: 404, code: "group_not_found",
             body: #"{"group": 18446744073709551616, "holder": {"id": "vm", "tenant": "t"}}"#),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""ttlSeconds": 0"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""ttlSeconds": 1.5"#)),
        Case(method: "GET", path: "/v1/audit?since=2026-01-01", status: 400, code: "invalid_parameter"),
        Case(method: "GET", path: "/v1/audit?until=2026-01-01T00:00:00.Z", status: 400, code: "invalid_parameter"),
        // Strict JSON: one name per member, UTF-8, a JSON media type.
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "duplicate_member", body: assignment(#""holder": {"id": "vm", "tenant": "t"}"#)),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "duplicate_member",
             body: #"{"device": "0000:00:02.0", "holder": {"id": "vm", "id": "x", "tenant": "t"}}"#),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 400, code: "duplicate_member", body: #"{"method": "hot", "\u006dethod": "hot"}"#),
        Case(method: "POST", path: "/v1/assignments", status: 415, code: "unsupported_media_type", body: assignment(#""ttlSeconds": 60"#), contentType: "application/jsonx"),
        Case(method: "POST", path: "/v1/assignments", status: 415, code: "unsupported_media_type", body: assignment(#""ttlSeconds": 60"#), contentType: "application/json; charset=utf-16"),
        Case(method: "POST", path: "/v1/devices/0000:00:02.0/reset", status: 415, code: "unsupported_media_type", body: #"{"method": "hot"}"#, contentType: "text/plain"),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "malformed_body", body: assignment(#""ttlSeconds": 60"#), utf16: true),
        Case(method: "POST", path: "/v1/assignments", status: 400, code: "invalid_body", body: assignment(#""escalation": "nuke""#),
             contentType: "application/vnd.vfiod+json; charset=UTF-8"),
    ]

    @Test func everyBadRequestGetsItsProblemAndTheServerKeepsServing() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            for item in Self.cases {
                let headers = item.body == nil ? [] : [("Content-Type", item.contentType)]
                let response = try await service.request(item.method, item.path, headers: headers, body: item.bytes)
                #expect(response.status == item.status, "\(item): got \(response.status) \(response.bodyText)")
                #expect(response.header("Content-Type") == "application/problem+json", "\(item)")
                let problem = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                #expect(problem?["code"] as? String == item.code, "\(item): \(response.bodyText)")
                #expect(problem?["status"] as? Int == item.status)
                #expect(problem?["type"] as? String == "urn:vfiod:problem:\(item.code)")
                #expect((problem?["title"] as? String)?.isEmpty == false)
                #expect((problem?["detail"] as? String)?.isEmpty == false)
                #expect(problem?["instance"] is String)
                #expect(response.header("X-Request-Id") != nil)
                if item.status == 405 {
                    let allowed = (response.header("Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    #expect(!allowed.contains(item.method) && allowed.contains(where: { $0 != "OPTIONS" }), "\(item): Allow \(allowed)")
                }
                let health = try await service.get("/healthz")
                #expect(health.status == 200)
            }
        }
    }

    @Test func aPageTokenOnlyWorksWithTheFiltersItWasIssuedFor() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            let page = try await service.json("/v1/devices?pageSize=2&vendorId=8086")
            let token = try #require(page["nextPageToken"] as? String)
            let same = try await service.get("/v1/devices?pageSize=2&vendorId=8086&pageToken=\(token)")
            #expect(same.status == 200)
            let other = try await service.get("/v1/devices?pageSize=2&pageToken=\(token)")
            #expect(other.status == 400)
            #expect(other.bodyText.contains("invalid_page_token"))
        }
    }

    @Test func anOversizedBodyIsRefusedWithoutReadingIt() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            let port = service.port
            let response = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port)
                defer { client.close() }
                // Announce 64 MiB, send none of it: the answer must come anyway.
                try client.sendRaw(Array("POST /v1/devices HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n".utf8))
                return try client.readResponse(requestMethod: "POST")
            }
            #expect(response.status == 413)
            #expect(response.bodyText.contains("payload_too_large"))
            #expect(try await service.get("/healthz").status == 200)
        }
    }
}
