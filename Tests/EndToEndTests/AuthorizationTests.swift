import Foundation
import Testing
import Store
import TestSupport

/// Every route × role × own or foreign object. Operators act for one tenant; another tenant's
/// assignment is invisible to them (404, not 403), so its existence does not leak.
@Suite struct AuthorizationTests {
    enum Who: String, CaseIterable, Sendable { case nobody, viewer, operatorOwn, operatorOther, auditor, admin }

    struct Row: Sendable, CustomStringConvertible {
        let method: String
        let path: String
        let expect: [Who: Int]
        var description: String { "\(method) \(path)" }
    }

    /// `{own}` is an assignment of tenant t1, created by the t1 operator before each row runs.
    static let rows: [Row] = [
        Row(method: "GET", path: "/healthz", expect: [.nobody: 200, .viewer: 200, .operatorOwn: 200, .operatorOther: 200, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/devices", expect: [.nobody: 401, .viewer: 200, .operatorOwn: 200, .operatorOther: 200, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/groups/10", expect: [.nobody: 401, .viewer: 200, .operatorOwn: 200, .operatorOther: 200, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/assignments/{own}", expect: [.nobody: 401, .viewer: 200, .operatorOwn: 200, .operatorOther: 404, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/operations/{op}", expect: [.nobody: 401, .viewer: 200, .operatorOwn: 200, .operatorOther: 404, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/operations/{op}?wait=1", expect: [.nobody: 401, .viewer: 200, .operatorOwn: 200, .operatorOther: 404, .auditor: 200, .admin: 200]),
        Row(method: "POST", path: "/v1/assignments/{own}/renew", expect: [.nobody: 401, .viewer: 403, .operatorOwn: 200, .operatorOther: 404, .auditor: 403, .admin: 200]),
        Row(method: "POST", path: "/v1/assignments", expect: [.nobody: 401, .viewer: 403, .operatorOwn: 409, .operatorOther: 403, .auditor: 403, .admin: 409]),
        Row(method: "GET", path: "/v1/audit", expect: [.nobody: 401, .viewer: 403, .operatorOwn: 403, .operatorOther: 403, .auditor: 200, .admin: 200]),
        Row(method: "GET", path: "/v1/audit/verify", expect: [.nobody: 401, .viewer: 403, .operatorOwn: 403, .operatorOther: 403, .auditor: 200, .admin: 200]),
        Row(method: "DELETE", path: "/v1/assignments/{own}", expect: [.nobody: 401, .viewer: 403, .operatorOwn: 202, .operatorOther: 404, .auditor: 403, .admin: 202]),
    ]

    @Test func everyRouteRoleAndOwnershipGetsItsAnswer() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let database = try Database(path: service.service.configuration.databasePath)
            let tokens = TokenStore(database: database)
            var token: [Who: String] = [:]
            token[.viewer] = try tokens.create(name: "dash", role: .viewer).token
            token[.operatorOwn] = try tokens.create(name: "orch-1", role: .operator, tenant: "t1").token
            token[.operatorOther] = try tokens.create(name: "orch-2", role: .operator, tenant: "t2").token
            token[.auditor] = try tokens.create(name: "audit", role: .auditor).token
            token[.admin] = try tokens.create(name: "root", role: .admin).token

            for row in Self.rows {
                for who in Who.allCases {
                    // A fresh assignment of tenant t1 for every cell, so DELETE and renew find it active.
                    let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:05:00.0", "holder": ["id": "vm", "tenant": "t1"]],
                                                         token: token[.operatorOwn])
                    #expect(created.response.status == 202, "\(row) as \(who): \(created.response.bodyText)")
                    let bind = try await service.finish(operation: created.response.header("Operation-Location"), token: token[.admin])
                    let own = try #require(created.body["id"] as? String)
                    let path = row.path.replacingOccurrences(of: "{own}", with: own)
                        .replacingOccurrences(of: "{op}", with: bind["id"] as? String ?? "")
                    let body: [String: Any]? = row.method == "POST" && row.path == "/v1/assignments"
                        ? ["device": "0000:05:00.0", "holder": ["id": "vm", "tenant": "t1"]]
                        : row.method == "POST" ? ["ttlSeconds": 60] : nil
                    let (response, problem) = try await service.send(row.method, path, json: body, token: token[who])
                    #expect(response.status == row.expect[who], "\(row) as \(who): \(response.status) \(response.bodyText)")
                    if response.status == 401 {
                        #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
                        #expect(problem["code"] as? String == "unauthenticated")
                    }
                    if response.status == 403 { #expect(problem["code"] as? String == "forbidden") }
                    // Clean up: release whatever is still live so the next cell can lease again.
                    let (_, current) = try await service.send("GET", "/v1/assignments/\(own)", token: token[.admin])
                    if current["state"] as? String == "active" {
                        let released = try await service.send("DELETE", "/v1/assignments/\(own)", token: token[.admin])
                        _ = try await service.finish(operation: released.response.header("Operation-Location"), token: token[.admin])
                    } else if current["state"] as? String == "releasing" {
                        let operations = try await service.service.assignments.operations(ofAssignment: own)
                        _ = try await service.finish(operation: "/v1/operations/\(operations.last!.id)", token: token[.admin])
                    }
                }
            }
            let wrong = try await service.send("GET", "/v1/devices", token: "vfiod_not-a-real-token")
            #expect(wrong.response.status == 401)
            let raw = try Data(contentsOf: URL(fileURLWithPath: service.service.configuration.databasePath))
            #expect(raw.range(of: Data(token[.admin]!.utf8)) == nil, "the database holds hashes, never tokens")
        }
    }
}
