import Foundation
import Testing
import Store
import TestSupport

/// Reads answered from memory on the server's thread (the immediate path) are always what the store
/// and the inventory would answer now: a cached assignment follows every change, a cached token every
/// revocation, and an operator still sees only its own tenant's assignments.
@Suite struct CachedReadTests {
    @Test func aCachedAssignmentFollowsEveryChange() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (created, assignment) = try await service.send("POST", "/v1/assignments", json: [
                "device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 600])
            #expect(created.status == 202, "\(created.bodyText)")
            let id = try #require(assignment["id"] as? String)
            #expect(try await service.finish(operation: created.header("Operation-Location"))["state"] as? String == "succeeded")
            // Read three times: the first from the store, the others from memory; all the same.
            var answers: [String] = []
            for _ in 0..<3 {
                let (response, body) = try await service.send("GET", "/v1/assignments/\(id)")
                #expect(response.status == 200 && body["state"] as? String == "active")
                answers.append(response.bodyText + (response.header("ETag") ?? "-"))
            }
            #expect(Set(answers).count == 1)
            let etag = try #require(try await service.send("GET", "/v1/assignments/\(id)").response.header("ETag"))
            let renewed = try await service.send("POST", "/v1/assignments/\(id)/renew", json: ["ttlSeconds": 900],
                                                 headers: [("If-Match", etag)])
            #expect(renewed.response.status == 200)
            let (afterRenew, renewedBody) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(afterRenew.header("ETag") != etag && renewedBody["ttlSeconds"] as? Int == 900)
            let (released, _) = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(released.status == 202)
            #expect(try await service.send("GET", "/v1/assignments/\(id)").body["state"] as? String != "active")
            #expect(try await service.finish(operation: released.header("Operation-Location"))["state"] as? String == "succeeded")
            #expect(try await service.send("GET", "/v1/assignments/\(id)").body["state"] as? String == "released")
        }
    }

    @Test func aCachedAssignmentIsHiddenFromAnotherTenantsOperator() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let tokens = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let admin = try tokens.create(name: "root", role: .admin).token
            let own = try tokens.create(name: "own", role: .operator, tenant: "t1").token
            let other = try tokens.create(name: "other", role: .operator, tenant: "t2").token
            let (created, assignment) = try await service.send("POST", "/v1/assignments", json: [
                "device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 600], token: admin)
            #expect(created.status == 202, "\(created.bodyText)")
            let id = try #require(assignment["id"] as? String)
            _ = try await service.finish(operation: created.header("Operation-Location"), token: admin)
            for _ in 0..<3 {
                #expect(try await service.send("GET", "/v1/assignments/\(id)", token: own).response.status == 200)
                let hidden = try await service.send("GET", "/v1/assignments/\(id)", token: other)
                #expect(hidden.response.status == 404 && hidden.body["code"] as? String == "assignment_not_found")
                #expect(try await service.send("GET", "/v1/assignments/\(id)").response.status == 401)
            }
        }
    }
}
