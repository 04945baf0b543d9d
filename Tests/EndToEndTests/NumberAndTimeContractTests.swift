import Foundation
import Store
import Testing
import TestSupport

/// What the contract says of numbers and times at their edges: a lease length of any size is lowered to
/// 30 days, a group number beyond 64 bits is a group the host does not have, `since`/`until` take any
/// RFC 3339 date-time, and a 412 says which generation the assignment is at and which one was sent.
@Suite struct NumberAndTimeContractTests {
    static var holder: [String: Any] { ["id": "vm", "tenant": "t"] }

    /// Posts a raw JSON body (numbers JSONSerialization would not write, such as 2^64).
    static func post(_ service: TestService, _ path: String, _ body: String,
                     headers: [(String, String)] = []) async throws -> (status: Int, body: [String: Any], response: TestResponse) {
        let response = try await service.request("POST", path, headers: [("Content-Type", "application/json")] + headers,
                                                  body: Array(body.utf8))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, object, response)
    }

    @Test(arguments: ["9223372036854775807", "9223372036854775808", "18446744073709551616", "1e30",
                      "100000000000000000000000000000000000000000000000000", "2592001", "2592000.0"])
    func aLeaseLengthOfAnySizeIsLoweredTo30Days(_ ttl: String) async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await Self.post(service, "/v1/assignments",
                                              #"{"device": "0000:05:00.0", "holder": {"id": "vm", "tenant": "t"}, "ttlSeconds": \#(ttl)}"#)
            #expect(created.status == 202, "\(created.body)")
            #expect(created.body["ttlSeconds"] as? Int == 2_592_000)
            ContractTests.expect(created.body, conformsTo: document, "POST", "/v1/assignments", 202)
            let id = try #require(created.body["id"] as? String)
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            let renewed = try await Self.post(service, "/v1/assignments/\(id)/renew", #"{"ttlSeconds": \#(ttl)}"#)
            #expect(renewed.status == 200, "\(renewed.body)")
            #expect(renewed.body["ttlSeconds"] as? Int == 2_592_000)
        }
    }

    @Test func aGroupNumberBeyondAnyGroupIsNotFoundAndABrokenOneIsInvalid() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            for group in ["18446744073709551616", "9223372036854775808", "1e30", "4242"] {
                let answer = try await Self.post(service, "/v1/assignments", #"{"group": \#(group), "holder": {"id": "vm", "tenant": "t"}}"#)
                #expect(answer.status == 404 && answer.body["code"] as? String == "group_not_found", "group \(group): \(answer.body)")
            }
            for group in ["-1", "1.5", "-18446744073709551616", "true", #""10""#] {
                let answer = try await Self.post(service, "/v1/assignments", #"{"group": \#(group), "holder": {"id": "vm", "tenant": "t"}}"#)
                #expect(answer.status == 400 && answer.body["code"] as? String == "invalid_body", "group \(group): \(answer.body)")
            }
            for ttl in ["0", "-5", "1.5", "-18446744073709551616", #""60""#] {
                let answer = try await Self.post(service, "/v1/assignments",
                                                 #"{"group": 10, "holder": {"id": "vm", "tenant": "t"}, "ttlSeconds": \#(ttl)}"#)
                #expect(answer.status == 400 && answer.body["code"] as? String == "invalid_body", "ttlSeconds \(ttl): \(answer.body)")
            }
        }
    }

    @Test func renewingWithANewerGenerationSaysSo() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 10, "holder": Self.holder])
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            let id = try #require(created.body["id"] as? String)
            let current = try #require(try await service.send("GET", "/v1/assignments/\(id)").body["generation"] as? Int)
            let newer = try await service.send("POST", "/v1/assignments/\(id)/renew", headers: [("If-Match", "\"g999\"")])
            #expect(newer.response.status == 412)
            let detail = newer.body["detail"] as? String ?? ""
            #expect(detail.contains("generation \(current)") && detail.contains("999") && detail.contains("not reached"), "\(detail)")
            #expect(!detail.contains("older"), "\(detail)")
            #expect(newer.response.header("ETag") == "\"g\(current)\"")
            let older = try await service.send("POST", "/v1/assignments/\(id)/renew", headers: [("If-Match", "\"g0\"")])
            #expect(older.response.status == 412)
            #expect((older.body["detail"] as? String ?? "").contains("older"), "\(older.body)")
        }
    }

    @Test func sinceAndUntilTakeAnyRFC3339DateTime() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 10, "holder": Self.holder])
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            for form in ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.77Z", "2026-01-01T00:00:00.7Z", "2026-01-01T00:00:00.123456789Z",
                         "2026-01-01T02:00:00%2B02:00", "2025-12-31T19:30:00.5-04:30", "2026-01-01t00:00:00z", "2016-12-31T23:59:60Z"] {
                for name in ["since", "until"] {
                    let response = try await service.get("/v1/audit?\(name)=\(form)")
                    #expect(response.status == 200, "\(name)=\(form): \(response.bodyText)")
                }
            }
            for form in ["2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+2:00",
                         "2026-01-01T24:00:00Z", "2026-01-01T00:00:00%2B02:00x", "yesterday"] {
                let response = try await service.get("/v1/audit?since=\(form)")
                #expect(response.status == 400 && response.bodyText.contains("invalid_parameter"), "since=\(form): \(response.bodyText)")
            }
            // The first row's own time, written in other ways, selects exactly from it.
            let rows = try await service.items("/v1/audit")
            let first = try #require(rows.first)
            let time = try #require(first["time"] as? String)
            let seq = try #require(first["seq"] as? Int)
            func seqs(_ query: String) async throws -> [Int] {
                try await service.items("/v1/audit?\(query)").compactMap { $0["seq"] as? Int }
            }
            let finer = String(time.dropLast()) + "0001Z"
            let since = try await seqs("since=\(time)")
            let sinceLonger = try await seqs("since=\(String(time.dropLast()) + "000000Z")")
            let sinceFiner = try await seqs("since=\(finer)")
            let untilFiner = try await seqs("until=\(finer)")
            let until = try await seqs("until=\(time)")
            #expect(since.contains(seq) && sinceLonger.contains(seq))
            #expect(!sinceFiner.contains(seq), "a time a tenth of a microsecond later leaves the row out")
            #expect(untilFiner.contains(seq) && !until.contains(seq))
            // The same instant two hours east of UTC.
            let east = Timestamp.format(try #require(Timestamp.parse(time)).addingTimeInterval(7200)).dropLast() + "%2B02:00"
            let sinceEast = try await seqs("since=\(east)")
            #expect(sinceEast == since, "\(east)")
        }
    }
}
