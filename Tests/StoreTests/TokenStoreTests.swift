import Foundation
import Testing
@testable import Store

@Suite struct TokenStoreTests {
    static let t1 = Date(timeIntervalSince1970: 1_738_324_800.250)
    static let t2 = Date(timeIntervalSince1970: 1_738_328_400.500)

    func withStore<T>(_ body: (TokenStore, URL) throws -> T) throws -> T {
        try withAuditDatabase { database, directory in try body(TokenStore(database: database), directory) }
    }

    @Test func createLookupRevoke() throws {
        try withStore { store, _ in
            let (token, record) = try store.create(name: "ci-runner", role: .operator, tenant: "acme", at: Self.t1)
            #expect(record.name == "ci-runner" && record.role == .operator && record.tenant == "acme")
            #expect(record.createdAt == Self.t1 && record.revokedAt == nil)
            #expect(try store.lookup(token: token) == record)

            let revoked = try store.revoke(name: "ci-runner", at: Self.t2)
            #expect(revoked.revokedAt == Self.t2 && revoked.isRevoked)
            #expect(try store.lookup(token: token) == nil)
            // Revoking again keeps the first time.
            #expect(try store.revoke(name: "ci-runner").revokedAt == Self.t2)
            #expect(throws: TokenStoreError.unknownName("nobody")) { try store.revoke(name: "nobody") }
        }
    }

    @Test func tokensHaveTheDocumentedShapeAndDiffer() throws {
        try withStore { store, _ in
            let first = try store.create(name: "a", role: .viewer).token
            let second = try store.create(name: "b", role: .viewer).token
            #expect(first != second)
            for token in [first, second] {
                #expect(token.hasPrefix("vfiod_") && token.count == 6 + 43)
                #expect(token.dropFirst(6).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            }
        }
    }

    @Test func wrongTokensFindNothing() throws {
        try withStore { store, _ in
            let token = try store.create(name: "admin-1", role: .admin).token
            var altered = Array(token)
            altered[10] = altered[10] == "A" ? "B" : "A"
            for wrong in [String(altered), String(token.dropLast()), token + "x", "", "vfiod_", "Bearer " + token,
                          String(token.dropFirst(6))] {
                #expect(try store.lookup(token: wrong) == nil, "\(wrong)")
            }
            #expect(try store.lookup(token: token)?.name == "admin-1")
        }
    }

    @Test func onlyTheHashIsStored() throws {
        try withStore { store, directory in
            let (token, _) = try store.create(name: "secret-holder", role: .auditor)
            let hash = try store.database.query("SELECT token_hash FROM tokens") { $0.string(0) }
            #expect(hash == [SHA256.hexDigest(token.utf8)])
            // The database file and its WAL: the hash is there, the token (or its random part) is not.
            var bytes: [UInt8] = []
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                bytes += try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
            }
            func contains(_ needle: String) -> Bool {
                let needle = Array(needle.utf8)
                return bytes.indices.dropLast(needle.count - 1).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
            }
            #expect(contains(hash[0]))
            #expect(!contains(token) && !contains(String(token.dropFirst(6))))
        }
    }

    @Test func namesTenantsAndRolesAreValidated() throws {
        try withStore { store, _ in
            #expect(throws: TokenStoreError.operatorNeedsTenant) { try store.create(name: "op", role: .operator) }
            #expect(throws: TokenStoreError.invalidName("", reason: "it is empty")) { try store.create(name: "", role: .viewer) }
            #expect(throws: TokenStoreError.self) { try store.create(name: "has space", role: .viewer) }
            #expect(throws: TokenStoreError.self) { try store.create(name: String(repeating: "n", count: 65), role: .viewer) }
            #expect(throws: TokenStoreError.self) { try store.create(name: "system", role: .admin) }
            #expect(throws: TokenStoreError.self) { try store.create(name: "op", role: .operator, tenant: "") }
            #expect(try store.list().isEmpty)

            let auditor = try store.create(name: "auditor.1", role: .auditor).record
            #expect(auditor.tenant == nil)
            try store.revoke(name: "auditor.1")
            // Names are never reused, revoked or not.
            #expect(throws: TokenStoreError.nameTaken("auditor.1")) { try store.create(name: "auditor.1", role: .viewer) }
            _ = try store.create(name: "Ops_2", role: .operator, tenant: "globex-eu")
            #expect(try store.list().map(\.name) == ["Ops_2", "auditor.1"])
            #expect(try store.list().map(\.isRevoked) == [false, true])
        }
    }

    @Test func theTableRefusesAnOperatorWithoutTenant() throws {
        try withStore { store, _ in
            #expect(throws: DatabaseError.self) {
                try store.database.run("INSERT INTO tokens (name, role, token_hash, created_at) VALUES ('x', 'operator', ?, 'now')",
                                       .text(String(repeating: "a", count: 64)))
            }
            let tokens = try store.list()
            #expect(tokens.isEmpty)
        }
    }

    @Test func anExpiryIsStoredCheckedAndListed() throws {
        try withStore { store, _ in
            let expiry = Self.t1.addingTimeInterval(3600)
            let (token, record) = try store.create(name: "short", role: .viewer, expiresAt: expiry, at: Self.t1)
            #expect(record.expiresAt == expiry)
            #expect(try store.check(token: token, at: expiry.addingTimeInterval(-0.001)) == .valid(record))
            #expect(try store.check(token: token, at: expiry) == .expired(record))
            #expect(try store.lookup(token: token, at: expiry) == nil)
            #expect(try store.list().first?.expiresAt == expiry)
            // Revoked beats expired: the answer does not say whether a revoked token existed.
            try store.revoke(name: "short", at: Self.t2)
            #expect(try store.check(token: token, at: expiry) == .unknown)
            #expect(throws: TokenStoreError.self) { try store.create(name: "never", role: .viewer, expiresAt: Self.t1, at: Self.t1) }
            #expect(try store.list().map(\.name) == ["short"])
        }
    }

    @Test func createAndRevokeAreAuditedInTheirTransactionWithoutTheSecret() throws {
        try withStore { store, _ in
            let (token, _) = try store.create(name: "orch", role: .operator, tenant: "acme", expiresAt: Self.t2,
                                              actor: "root", requestID: "req-1", at: Self.t1)
            try store.revoke(name: "orch", actor: "cli", at: Self.t2)
            try store.revoke(name: "orch", actor: "cli")
            #expect(throws: TokenStoreError.nameTaken("orch")) { try store.create(name: "orch", role: .viewer) }
            let rows = try AuditLog.list(AuditQuery(), in: store.database)
            #expect(rows.map(\.entry.action) == ["token.created", "token.revoked"], "a refused create and a second revoke add nothing")
            #expect(rows.map(\.entry.actor) == ["root", "cli"])
            #expect(rows[0].entry.requestID == "req-1" && rows[0].entry.tenant == "acme")
            #expect(rows[0].entry.after == ["name": "orch", "role": "operator", "expiresAt": Timestamp.format(Self.t2)])
            #expect(rows[1].entry.after == ["name": "orch", "role": "operator", "revokedAt": Timestamp.format(Self.t2)])
            let text = rows.map { "\($0.entry)" }.joined()
            #expect(!text.contains(token) && !text.contains(SHA256.hexDigest(token.utf8)))
            #expect(try AuditLog.verify(store.database).ok)
        }
    }

    @Test func listPagesByName() throws {
        try withStore { store, _ in
            for name in ["c", "a", "d", "b"] { _ = try store.create(name: name, role: .viewer) }
            #expect(try store.list(after: nil, limit: 2).map(\.name) == ["a", "b"])
            #expect(try store.list(after: "b", limit: 2).map(\.name) == ["c", "d"])
            #expect(try store.list(after: "d", limit: 2).isEmpty)
        }
    }

    /// A database that cannot be read is an error, never "unknown token": the file is zeroed under an
    /// open store (after a checkpoint moved everything into it), as a failing disk would.
    @Test func aDatabaseThatCannotBeReadIsAnErrorNotAnUnknownToken() throws {
        try withStore { store, directory in
            let token = try store.create(name: "valid", role: .admin).token
            #expect(try store.database.query("PRAGMA wal_checkpoint(TRUNCATE)") { $0.int64(0) } == [0])
            let path = databasePath(in: directory)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.write(contentsOf: Data(count: size))
            try handle.close()
            #expect(throws: DatabaseError.self) { try store.check(token: token) }
        }
    }

    @Test func base64URLMatchesRFC4648() {
        let vectors: [(String, String)] = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
                                           ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]
        for (input, output) in vectors { #expect(TokenSecret.base64URL(Array(input.utf8)) == output) }
        #expect(TokenSecret.base64URL([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(TokenSecret.constantTimeEqual("abc", "abc") && !TokenSecret.constantTimeEqual("abc", "abd"))
        #expect(!TokenSecret.constantTimeEqual("abc", "ab"))
    }
}
