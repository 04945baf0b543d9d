import Foundation
import Store
import Testing
import TestSupport

/// An operator sees that another tenant's device is taken, not by whom: no other tenant's assignment id
/// in the devices, their lists, the groups or a reset scope. Viewers and admins see every tenant.
@Suite struct TenantVisibilityTests {
    struct Tokens {
        let viewer: String, admin: String, one: String, two: String
    }

    /// Two tenants' assignments: t1 holds group 10 (`0000:05:00.0`), t2 group 11 (the edu `0000:06:01.0` and the e1000).
    static func withTwoTenants(_ body: (TestService, Tokens, _ leaseOne: String, _ leaseTwo: String) async throws -> Void) async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let store = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let tokens = Tokens(viewer: try store.create(name: "dash", role: .viewer).token,
                                admin: try store.create(name: "root", role: .admin).token,
                                one: try store.create(name: "orch-1", role: .operator, tenant: "t1").token,
                                two: try store.create(name: "orch-2", role: .operator, tenant: "t2").token)
            var ids: [String] = []
            for (target, tenant, token) in [(["group": 10], "t1", tokens.one), (["group": 11], "t2", tokens.two)] {
                var request: [String: Any] = ["holder": ["id": "vm", "tenant": tenant]]
                for (key, value) in target { request[key] = value }
                let created = try await service.send("POST", "/v1/assignments", json: request, token: token)
                #expect(created.response.status == 202, "\(created.response.bodyText)")
                let bind = try await service.finish(operation: created.response.header("Operation-Location"), token: token)
                #expect(bind["state"] as? String == "succeeded", "\(bind)")
                ids.append(try #require(created.body["id"] as? String))
            }
            try await body(service, tokens, ids[0], ids[1])
        }
    }

    static func get(_ service: TestService, _ path: String, _ token: String) async throws -> (text: String, json: [String: Any]) {
        let (response, body) = try await service.send("GET", path, token: token)
        #expect(response.status == 200, "\(path): \(response.bodyText)")
        return (response.bodyText, body)
    }

    @Test func anOperatorSeesAnotherTenantsDeviceTakenButNotByWhom() async throws {
        try await Self.withTwoTenants { service, tokens, one, two in
            for (token, own, other, ownDevice, otherDevice) in [(tokens.one, one, two, "0000:05:00.0", "0000:06:01.0"),
                                                               (tokens.two, two, one, "0000:06:01.0", "0000:05:00.0")] {
                let foreign = try await Self.get(service, "/v1/devices/\(otherDevice)", token)
                #expect(foreign.json["state"] as? String == "assigned")
                #expect(foreign.json["assignmentId"] is NSNull, "\(foreign.text)")
                #expect(!foreign.text.contains(other), "\(foreign.text)")
                let mine = try await Self.get(service, "/v1/devices/\(ownDevice)", token)
                #expect(mine.json["assignmentId"] as? String == own)
                for path in ["/v1/devices", "/v1/devices?pageSize=1", "/v1/devices?state=assigned", "/v1/groups", "/v1/groups/10",
                             "/v1/groups/11", "/v1/devices/\(otherDevice)/reset-scope", "/v1/devices/\(ownDevice)/reset-scope"] {
                    let answer = try await Self.get(service, path, token)
                    #expect(!answer.text.contains(other), "\(path) shows the other tenant's \(other): \(answer.text)")
                }
                let list = try await service.items("/v1/devices?state=assigned", token: token)
                #expect(list.contains { $0["address"] as? String == ownDevice && $0["assignmentId"] as? String == own })
                #expect(list.contains { $0["address"] as? String == otherDevice && $0["assignmentId"] is NSNull })
                let scope = try await Self.get(service, "/v1/devices/\(otherDevice)/reset-scope", token).json
                #expect(scope["assignmentId"] is NSNull)
                let entries = scope["devices"] as? [[String: Any]] ?? []
                #expect(entries.allSatisfy { $0["assignmentId"] is NSNull }, "\(scope)")
                if otherDevice == "0000:06:01.0" {
                    #expect(entries.contains { $0["address"] as? String == otherDevice && $0["owner"] as? String == "this-assignment" },
                            "the edu's scope lists it, taken: \(scope)")
                }
                let ownScope = try await Self.get(service, "/v1/devices/\(ownDevice)/reset-scope", token).json
                #expect(ownScope["assignmentId"] as? String == own)
                // Asking for the other tenant's group: taken, not by whom; for its own group, which one.
                let tenant = token == tokens.one ? "t1" : "t2"
                let otherGroup = otherDevice == "0000:06:01.0" ? 11 : 10
                let refused = try await service.send("POST", "/v1/assignments", json: ["group": otherGroup, "holder": ["id": "x", "tenant": tenant]],
                                                     token: token)
                #expect(refused.response.status == 409 && refused.body["code"] as? String == "group_assigned")
                #expect(refused.body["assignmentId"] == nil && !refused.response.bodyText.contains(other), "\(refused.response.bodyText)")
                let ownRefused = try await service.send("POST", "/v1/assignments",
                                                        json: ["group": 21 - otherGroup, "holder": ["id": "x", "tenant": tenant]], token: token)
                #expect(ownRefused.body["assignmentId"] as? String == own, "\(ownRefused.response.bodyText)")
            }
        }
    }

    /// Two groups that share a bus, each leased by another tenant: the reset scope says the other half is
    /// held by another assignment, naming it only to those who may see it.
    @Test func aResetScopeNamesAnotherTenantsAssignmentOnlyToThoseWhoSeeIt() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: ["8086:*", "1234:*", "1b36:*"], auth: true)) { service in
            let store = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let admin = try store.create(name: "root", role: .admin).token
            let one = try store.create(name: "orch-1", role: .operator, tenant: "t1").token
            let two = try store.create(name: "orch-2", role: .operator, tenant: "t2").token
            var ids: [String] = []
            for (group, tenant, token) in [(23, "t1", one), (24, "t2", two)] {
                let created = try await service.send("POST", "/v1/assignments", json: ["group": group, "holder": ["id": "vm", "tenant": tenant]],
                                                     token: token)
                _ = try await service.finish(operation: created.response.header("Operation-Location"), token: token)
                ids.append(try #require(created.body["id"] as? String, "\(created.response.bodyText)"))
            }
            let path = "/v1/devices/0000:02:00.0/reset-scope"
            let seenByOne = try await Self.get(service, path, one)
            let blockers = seenByOne.json["blockers"] as? [[String: Any]] ?? []
            #expect(blockers.contains { $0["address"] as? String == "0000:02:00.1" && $0["reason"] as? String == "held by another assignment" },
                    "\(blockers)")
            #expect(!seenByOne.text.contains(ids[1]) && seenByOne.json["assignmentId"] as? String == ids[0], "\(seenByOne.text)")
            let other = (seenByOne.json["devices"] as? [[String: Any]] ?? []).first { $0["address"] as? String == "0000:02:00.1" }
            #expect(other?["owner"] as? String == "another-assignment" && other?["assignmentId"] is NSNull)
            let seenByAdmin = try await Self.get(service, path, admin)
            #expect(seenByAdmin.text.contains(ids[0]) && seenByAdmin.text.contains("held by another assignment (\(ids[1]))"), "\(seenByAdmin.text)")
            let seenByTwo = try await Self.get(service, path, two)
            #expect(!seenByTwo.text.contains(ids[0]) && seenByTwo.text.contains(ids[1]), "\(seenByTwo.text)")
        }
    }

    @Test func viewersAndAdminsSeeEveryTenantAndShareTheEncodedBodies() async throws {
        try await Self.withTwoTenants { service, tokens, one, two in
            for token in [tokens.viewer, tokens.admin] {
                for (address, id) in [("0000:05:00.0", one), ("0000:06:01.0", two)] {
                    let device = try await Self.get(service, "/v1/devices/\(address)", token)
                    #expect(device.json["assignmentId"] as? String == id)
                    let scope = try await Self.get(service, "/v1/devices/\(address)/reset-scope", token)
                    #expect(scope.json["assignmentId"] as? String == id)
                }
                let list = try await Self.get(service, "/v1/devices?state=assigned", token)
                #expect(list.text.contains(one) && list.text.contains(two))
            }
            // The viewer's and the admin's bodies are the same bytes; the operator's variant differs.
            let viewer = try await service.send("GET", "/v1/devices/0000:05:00.0", token: tokens.viewer).response
            let admin = try await service.send("GET", "/v1/devices/0000:05:00.0", token: tokens.admin).response
            let other = try await service.send("GET", "/v1/devices/0000:05:00.0", token: tokens.two).response
            #expect(viewer.header("ETag") == admin.header("ETag") && viewer.body == admin.body)
            #expect(other.header("ETag") != viewer.header("ETag"))
            let revalidated = try await service.send("GET", "/v1/devices/0000:05:00.0",
                                                     headers: [("If-None-Match", viewer.header("ETag") ?? "")], token: tokens.two)
            #expect(revalidated.response.status == 200, "the full view's ETag does not validate the operator's")
        }
    }
}

extension TestService {
    /// Every item of a list route as `token`, following page tokens.
    func items(_ path: String, token: String) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var next: String? = nil
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let (response, page) = try await send("GET", path + (next.map { "\(separator)pageToken=\($0)" } ?? ""), token: token)
            #expect(response.status == 200, "\(path): \(response.bodyText)")
            items += page["items"] as? [[String: Any]] ?? []
            next = page["nextPageToken"] as? String
        } while next != nil
        return items
    }
}
