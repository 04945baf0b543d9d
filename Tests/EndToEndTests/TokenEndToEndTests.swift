import Foundation
import Testing
import Store
import TestSupport

/// API tokens end to end: the `vfiod token` commands (the built binary on a real database file), the
/// admin routes on a real server with authentication on, revocation seen by a running server, expiry,
/// and the audit rows. No answer, line or row ever holds a token or its hash.
@Suite struct TokenEndToEndTests {
    @Test func theCommandLineCreatesListsAndRevokesTokens() throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-token-cli")
        defer { directory.remove() }
        let db = directory.path + "/v.db"
        let orch = try ProcessTests.run(["token", "create", "--db", db, "--name", "orch", "--role", "operator",
                                         "--tenant", "t1", "--expires-in", "30d"])
        #expect(orch.status == 0, "\(orch.err)")
        let root = try ProcessTests.run(["token", "create", "--db", db, "--name", "root", "--role", "admin"])
        #expect(root.status == 0, "\(root.err)")
        let secrets = [orch.out, root.out].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let hashes = secrets.map { SHA256.hexDigest(Array($0.utf8)) }

        let listed = try ProcessTests.run(["token", "list", "--db", db])
        #expect(listed.status == 0, "\(listed.err)")
        let rows = listed.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "REVOKED"])
        #expect(rows.dropFirst().map { Array($0.prefix(3)) } == [["orch", "operator", "t1"], ["root", "admin", "-"]])
        let created = try #require(Timestamp.parse(rows[1][3]))
        let expires = try #require(Timestamp.parse(rows[1][4]), "orch has an expiry: \(listed.out)")
        #expect(expires.timeIntervalSince(created) == 30 * 86_400)
        #expect(rows[1][5] == "-" && rows[2][4] == "-" && rows[2][5] == "-")

        let revoked = try ProcessTests.run(["token", "revoke", "orch", "--db", db])
        #expect(revoked.status == 0, "\(revoked.err)")
        #expect(revoked.out.contains("revoked token orch (operator)"))
        let again = try ProcessTests.run(["token", "revoke", "orch", "--db", db])
        #expect(again.status == 0 && again.out.contains("already revoked"), "\(again.out)")
        let unknown = try ProcessTests.run(["token", "revoke", "nobody", "--db", db])
        #expect(unknown.status == 1 && unknown.err.contains("no token is named 'nobody'"), "\(unknown.err)")
        let after = try ProcessTests.run(["token", "list", "--db", db])
        let orchRow = try #require(after.out.split(separator: "\n").first { $0.hasPrefix("orch ") })
        #expect(Timestamp.parse(String(orchRow.split(separator: " ").last ?? "")) != nil, "revokedAt listed: \(orchRow)")

        for output in [listed.out, listed.err, revoked.out, again.out, after.out] {
            for secret in secrets + hashes { #expect(!output.contains(secret)) }
        }
        // One row per change, by the command line, naming the token and its role, never its secret or hash.
        let audit = try AuditLog.list(AuditQuery(), in: Database(path: db)).filter { $0.entry.action.hasPrefix("token.") }
        #expect(audit.map(\.entry.action) == ["token.created", "token.created", "token.revoked"])
        #expect(audit.allSatisfy { $0.entry.actor == "cli" })
        #expect(audit.map { $0.entry.after?["name"] } == ["orch", "root", "orch"])
        #expect(audit.map { $0.entry.after?["role"] } == ["operator", "admin", "operator"])
        #expect(audit[0].entry.tenant == "t1" && audit[0].entry.after?["expiresAt"] == rows[1][4])
        let text = audit.map { "\($0.entry)" }.joined()
        for secret in secrets + hashes { #expect(!text.contains(secret)) }
    }

    @Test(arguments: [["30"], ["0d"], ["-1h"], ["1w"], ["3651d"], ["1.5h"], ["99999999999999999d"]])
    func aBadExpiryIsRefused(_ expiry: [String]) throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-token-expiry")
        defer { directory.remove() }
        let result = try ProcessTests.run(["token", "create", "--db", directory.path + "/v.db", "--name", "x",
                                           "--role", "viewer", "--expires-in"] + expiry)
        #expect(result.status == 2, "\(expiry): \(result.out) \(result.err)")
        #expect(result.out.isEmpty && result.err.contains("--expires-in"), "\(result.err)")
    }

    /// `vfiod token revoke` in another process, on the database a server is using: the very next request
    /// with the token is refused: the requests before it were answered from the verifier's memory (the
    /// database unchanged), and the revocation's commit makes the next one look the token up again.
    @Test func aRevocationByTheCommandLineIsSeenByTheNextRequest() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let db = service.service.configuration.databasePath
            let created = try ProcessTests.run(["token", "create", "--db", db, "--name", "leaked", "--role", "viewer"])
            #expect(created.status == 0, "\(created.err)")
            let token = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
            for _ in 0..<3 { #expect(try await service.send("GET", "/v1/devices", token: token).response.status == 200) }
            let revoked = try ProcessTests.run(["token", "revoke", "leaked", "--db", db])
            #expect(revoked.status == 0, "\(revoked.err)")
            let refused = try await service.send("GET", "/v1/devices", token: token)
            #expect(refused.response.status == 401)
            #expect(refused.body["code"] as? String == "unauthenticated")
            #expect(refused.body["detail"] as? String == "the bearer token is unknown or revoked")
        }
    }

    @Test func adminsListAndRevokeTokensOverTheAPI() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let document = try OpenAPIDocument()
            let tokens = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let admin = try tokens.create(name: "root", role: .admin).token
            let others = [try tokens.create(name: "dash", role: .viewer).token,
                          try tokens.create(name: "orch", role: .operator, tenant: "t1").token,
                          try tokens.create(name: "audit", role: .auditor).token]
            let victim = try tokens.create(name: "victim", role: .viewer, expiresAt: Date().addingTimeInterval(3600)).token
            let all = [admin, victim] + others

            let (listed, list) = try await service.send("GET", "/v1/tokens", token: admin)
            #expect(listed.status == 200, "\(listed.bodyText)")
            ContractTests.expect(list, conformsTo: document, "GET", "/v1/tokens", 200)
            let items = try #require(list["items"] as? [[String: Any]])
            #expect(items.map { $0["name"] as? String } == ["audit", "dash", "orch", "root", "victim"])
            #expect(items.allSatisfy { Set($0.keys) == ["name", "role", "tenant", "createdAt", "expiresAt", "revokedAt"] })
            #expect(items[2]["tenant"] as? String == "t1" && items[2]["role"] as? String == "operator")
            #expect(items[4]["expiresAt"] is String && items[3]["expiresAt"] is NSNull && items[4]["revokedAt"] is NSNull)
            for secret in all { #expect(!listed.bodyText.contains(secret) && !listed.bodyText.contains(SHA256.hexDigest(Array(secret.utf8)))) }
            let first = try await service.send("GET", "/v1/tokens?pageSize=2", token: admin)
            let next = try #require(first.body["nextPageToken"] as? String)
            let second = try await service.send("GET", "/v1/tokens?pageSize=2&pageToken=\(next)", token: admin)
            #expect((second.body["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["orch", "root"])

            // Admins only: other roles are forbidden, no token is unauthenticated.
            for token in others {
                #expect(try await service.send("GET", "/v1/tokens", token: token).response.status == 403)
                #expect(try await service.send("DELETE", "/v1/tokens/victim", token: token).response.status == 403)
            }
            #expect(try await service.send("GET", "/v1/tokens").response.status == 401)
            #expect(try await service.send("DELETE", "/v1/tokens/victim").response.status == 401)

            #expect(try await service.send("GET", "/v1/devices", token: victim).response.status == 200)
            let deleted = try await service.send("DELETE", "/v1/tokens/victim", headers: [("X-Request-Id", "revoke-victim")], token: admin)
            #expect(deleted.response.status == 204 && deleted.response.body.isEmpty, "\(deleted.response.bodyText)")
            #expect(try await service.send("GET", "/v1/devices", token: victim).response.status == 401)
            #expect(try await service.send("DELETE", "/v1/tokens/victim", token: admin).response.status == 204, "revoking again changes nothing")
            let missing = try await service.send("DELETE", "/v1/tokens/nobody", token: admin)
            #expect(missing.response.status == 404 && missing.body["code"] as? String == "token_not_found")
            ContractTests.expect(missing.body, conformsTo: document, "DELETE", "/v1/tokens/{name}", 404, problem: true)
            let revokedItem = try await service.send("GET", "/v1/tokens", token: admin).body["items"] as? [[String: Any]]
            #expect(revokedItem?.last?["revokedAt"] is String)

            // One audit row, by the admin who revoked, in the request that did it; never the secret or hash.
            let (_, audit) = try await service.send("GET", "/v1/audit?action=token.revoked", token: admin)
            let rows = try #require(audit["items"] as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["actor"] as? String == "root" && rows.first?["requestId"] as? String == "revoke-victim")
            #expect((rows.first?["after"] as? [String: String])?["name"] == "victim")
            #expect((rows.first?["after"] as? [String: String])?["role"] == "viewer")
            let created = try await service.send("GET", "/v1/audit?action=token.created", token: admin)
            #expect((created.body["items"] as? [Any])?.count == 5)
            for secret in all {
                #expect(!created.response.bodyText.contains(secret) && !created.response.bodyText.contains(SHA256.hexDigest(Array(secret.utf8))))
            }
        }
    }

    @Test func anExpiredTokenIsRefusedSayingSo() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let tokens = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let now = Date()
            let expired = try tokens.create(name: "old", role: .viewer, expiresAt: now.addingTimeInterval(-1),
                                            at: now.addingTimeInterval(-2))
            let current = try tokens.create(name: "new", role: .viewer, expiresAt: now.addingTimeInterval(3600)).token
            let refused = try await service.send("GET", "/v1/devices", token: expired.token)
            #expect(refused.response.status == 401)
            #expect(refused.body["code"] as? String == "unauthenticated")
            let when = Timestamp.format(try #require(expired.record.expiresAt))
            #expect(refused.body["detail"] as? String == "the bearer token expired at \(when); ask an admin for a new one")
            #expect(refused.response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try await service.send("GET", "/v1/devices", token: current).response.status == 200)
            let wrong = try await service.send("GET", "/v1/devices", token: "vfiod_unknown")
            #expect(wrong.body["detail"] as? String == "the bearer token is unknown or revoked")
        }
    }
}
