import Foundation

/// API tokens (table `tokens`, migration 0002). Only a token's SHA-256 is stored: the token itself is
/// shown once, by `create`, and cannot be recovered. Creating and revoking are audited by the caller.
/// Every call blocks the calling thread (see `Database`).
public struct TokenStore: Sendable {
    /// The database, already migrated.
    public let database: Database

    /// A store over `database`; run `Migrator().apply(to:)` on it first.
    public init(database: Database) {
        self.database = database
    }

    /// The longest name or tenant accepted.
    public static let maximumNameLength = 64

    /// Creates a token and returns it with its record; the token is never stored, so hand it to the
    /// user now. Names are letters, digits, `.`, `_` and `-` (1–64; `system` is reserved for vfiod's own
    /// audit rows), tenants too; an operator must have a tenant.
    public func create(name: String, role: TokenRole, tenant: String? = nil,
                       at time: Date = Date()) throws -> (token: String, record: TokenRecord) {
        if let reason = Self.problem(with: name) { throw TokenStoreError.invalidName(name, reason: reason) }
        if name == "system" { throw TokenStoreError.invalidName(name, reason: "'system' is the actor of vfiod's own audit rows") }
        if let tenant, let reason = Self.problem(with: tenant) { throw TokenStoreError.invalidTenant(tenant, reason: reason) }
        if role == .operator, tenant == nil { throw TokenStoreError.operatorNeedsTenant }
        let token = TokenSecret.generate()
        let record = try database.transaction(.immediate) { connection in
            let taken = try connection.query("SELECT count(*) FROM tokens WHERE name = ?", bindings: [.text(name)]) {
                $0.int64(0)
            }
            guard taken.first == 0 else { throw TokenStoreError.nameTaken(name) }
            try connection.run("""
                INSERT INTO tokens (name, role, tenant, token_hash, created_at) VALUES (?, ?, ?, ?, ?)
                """, .text(name), .text(role.rawValue), SQLValue(tenant), .text(TokenSecret.hash(token)),
                .text(Timestamp.format(time)))
            return try Self.record(named: name, connection)
        }
        return (token, record)
    }

    /// The valid token `token` is, or nil: unknown, revoked, or not a vfiod token. Looks the row up by
    /// the token's SHA-256 and compares the hashes again in constant time.
    public func lookup(token: String) throws -> TokenRecord? {
        guard token.hasPrefix(TokenSecret.prefix), token.utf8.count <= 256 else { return nil }
        let hash = TokenSecret.hash(token)
        let rows = try database.withConnection { connection in
            try connection.query("SELECT \(Self.columns), token_hash FROM tokens WHERE token_hash = ?",
                                 bindings: [.text(hash)]) { row in (try Self.record(row), row.string(6)) }
        }
        guard let (record, storedHash) = rows.first, TokenSecret.constantTimeEqual(storedHash, hash),
              !record.isRevoked
        else { return nil }
        return record
    }

    /// Every token, revoked ones included, by name.
    public func list() throws -> [TokenRecord] {
        try database.query("SELECT \(Self.columns) FROM tokens ORDER BY name", map: Self.record)
    }

    /// Revokes the token named `name` and returns its record. Revoking a revoked token changes nothing
    /// (it keeps its first `revokedAt`). Throws `TokenStoreError.unknownName` when there is none.
    @discardableResult
    public func revoke(name: String, at time: Date = Date()) throws -> TokenRecord {
        try database.transaction(.immediate) { connection in
            try connection.run("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                               .text(Timestamp.format(time)), .text(name))
            return try Self.record(named: name, connection)
        }
    }

    static let columns = "id, name, role, tenant, created_at, revoked_at"

    private static func record(named name: String, _ connection: Connection) throws -> TokenRecord {
        let records = try connection.query("SELECT \(columns) FROM tokens WHERE name = ?", bindings: [.text(name)],
                                           map: record)
        guard let record = records.first else { throw TokenStoreError.unknownName(name) }
        return record
    }

    /// Reads a row selected with `columns`.
    private static func record(_ row: Row) throws -> TokenRecord {
        let id = row.int64(0)
        guard let role = TokenRole(rawValue: row.string(2)) else {
            throw TokenStoreError.invalidRow(id: id, reason: "role '\(row.string(2))' is unknown")
        }
        guard let createdAt = Timestamp.parse(row.string(4)) else {
            throw TokenStoreError.invalidRow(id: id, reason: "created_at '\(row.string(4))' is not RFC 3339")
        }
        var revokedAt: Date?
        if let text = row.nullableString(5) {
            guard let date = Timestamp.parse(text) else {
                throw TokenStoreError.invalidRow(id: id, reason: "revoked_at '\(text)' is not RFC 3339")
            }
            revokedAt = date
        }
        return TokenRecord(id: id, name: row.string(1), role: role, tenant: row.nullableString(3),
                           createdAt: createdAt, revokedAt: revokedAt)
    }

    /// Why `text` cannot be a name or tenant, or nil.
    private static func problem(with text: String) -> String? {
        if text.isEmpty { return "it is empty" }
        if text.utf8.count > maximumNameLength { return "it is longer than \(maximumNameLength) characters" }
        let allowed = { (byte: UInt8) in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
        if !text.utf8.allSatisfy(allowed) { return "only letters, digits, '.', '_' and '-' are allowed" }
        return nil
    }
}
