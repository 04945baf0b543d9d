import Foundation
import Store
import Testing
import TestSupport

/// The inventory's bodies are encoded, hashed and redacted when a reader first asks rather than at each
/// patch: a read after an operation still serves the new bytes with their own ETag, an old ETag no
/// longer validates, and an operator of another tenant gets the same bytes with `assignmentId` `null`.
@Suite struct LazyEncodingTests {
    @Test func aReadAfterAPatchServesTheNewBytesAndETag() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let store = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let admin = try store.create(name: "root", role: .admin).token
            let other = try store.create(name: "orch-2", role: .operator, tenant: "t2").token
            let path = "/v1/devices/0000:05:00.0"
            let before = try await Self.read(service, path, admin)
            let hostBefore = try await Self.read(service, "/v1/host", admin)
            #expect(before.json["assignmentId"] is NSNull)

            let created = try await service.send("POST", "/v1/assignments",
                                                 json: ["device": "0000:05:00.0", "holder": ["id": "vm", "tenant": "t1"]], token: admin)
            #expect(created.response.status == 202, "\(created.response.bodyText)")
            let id = try #require(created.body["id"] as? String)
            _ = try await service.finish(operation: created.response.header("Operation-Location"), token: admin)
            let leased = try await Self.read(service, path, admin)
            #expect(leased.json["assignmentId"] as? String == id && leased.json["driver"] as? String == "vfio-pci")
            #expect(leased.etag != before.etag)
            try await Self.expectRevalidation(service, path, admin, current: leased.etag, stale: before.etag)
            let hostLeased = try await Self.read(service, "/v1/host", admin)
            #expect(hostLeased.etag != hostBefore.etag && hostLeased.text != hostBefore.text)
            try await Self.expectRevalidation(service, "/v1/host", admin, current: hostLeased.etag, stale: hostBefore.etag)
            // The operator of another tenant: the same bytes but the assignment, with their own ETag.
            let hidden = try await Self.read(service, path, other)
            #expect(hidden.text == leased.text.replacingOccurrences(of: "\"assignmentId\":\"\(id)\"", with: "\"assignmentId\":null"))
            #expect(hidden.etag != leased.etag)
            try await Self.expectRevalidation(service, path, other, current: hidden.etag, stale: leased.etag)

            let released = try await service.send("DELETE", "/v1/assignments/\(id)", token: admin)
            _ = try await service.finish(operation: released.response.header("Operation-Location"), token: admin)
            let after = try await Self.read(service, path, admin)
            #expect(after.json["assignmentId"] is NSNull && after.etag != leased.etag)
            #expect(after.text == before.text && after.etag == before.etag, "back as it was: the same bytes, the same ETag")
            let unhidden = try await Self.read(service, path, other)
            #expect(unhidden.text == after.text && unhidden.etag == after.etag, "nothing left to hide")
            try await Self.expectRevalidation(service, path, other, current: after.etag, stale: hidden.etag)
        }
    }

    static func read(_ service: TestService, _ path: String, _ token: String) async throws
        -> (text: String, etag: String, json: [String: Any]) {
        let (response, body) = try await service.send("GET", path, token: token)
        #expect(response.status == 200, "\(path): \(response.bodyText)")
        return (response.bodyText, try #require(response.header("ETag")), body)
    }

    /// `current` answers `304`, `stale` a `200` with `current`.
    static func expectRevalidation(_ service: TestService, _ path: String, _ token: String, current: String, stale: String) async throws {
        let fresh = try await service.send("GET", path, headers: [("If-None-Match", current)], token: token).response
        #expect(fresh.status == 304 && fresh.header("ETag") == current, "\(path)")
        let old = try await service.send("GET", path, headers: [("If-None-Match", stale)], token: token).response
        #expect(old.status == 200 && old.header("ETag") == current, "\(path)")
    }
}
