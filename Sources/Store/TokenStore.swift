import Foundation

/// API tokens (table `tokens`, migrations 0002 and 0005). Only a token's SHA-256 is stored: the token
/// itself is shown once, by `create`, and cannot be recovered. Creating and revoking append their audit
/// row (`token.created`, `token.revoked`: name, role, tenant, never the token or its hash) in the same
/// transaction as the change. Every call blocks the calling thread (see `Database`).
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
    /// audit rows), tenants too; an operator must have a tenant. `expiresAt`, when set, must be after
    /// `time`. The audit row names `actor` (the API caller, or `cli` for the command line).
    public func create(name: String, role: TokenRole, tenant: String? = nil, expiresAt: Date? = nil,
                       actor: String = "cli", requestID: String? = nil,
                       at time: Date = Date()) throws -> (token: String, record: TokenRecord) {
        if let reason = Self.problem(with: name) { throw TokenStoreError.invalidName(name, reason: reason) }
        if name == "system" { throw TokenStoreError.invalidName(name, reason: "'system' is the actor of vfiod's own audit rows") }
        if let tenant, let reason = Self.problem(with: tenant) { throw TokenStoreError.invalidTenant(tenant, reason: reason) }
        if role == .operator, tenant == nil { throw TokenStoreError.operatorNeedsTenant }
        // Stored to the millisecond: compared as stored, so a sub-millisecond lifetime is no lifetime.
        if let expiresAt, Timestamp.format(expiresAt) <= Timestamp.format(time) {
            throw TokenStoreError.invalidExpiry("it must be after the creation time \(Timestamp.format(time))")
        }
        let token = TokenSecret.generate()
        let record = try database.write { connection in
            let taken = try connection.query("SELECT count(*) FROM tokens WHERE name = ?", bindings: [.text(name)]) {
                $0.int64(0)
            }
            guard taken.first == 0 else { throw TokenStoreError.nameTaken(name) }
            try connection.run("""
                INSERT INTO tokens (name, role, tenant, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, .text(name), .text(role.rawValue), SQLValue(tenant), .text(TokenSecret.hash(token)),
                .text(Timestamp.format(time)), SQLValue(expiresAt.map(Timestamp.format)))
            let record = try Self.record(named: name, connection)
            var after = ["name": record.name, "role": record.role.rawValue]
            if let expiresAt = record.expiresAt { after["expiresAt"] = Timestamp.format(expiresAt) }
            try AuditLog.append(AuditEntry(time: time, actor: actor, requestID: requestID, action: "token.created",
                                           tenant: record.tenant, after: after,
                                           detail: "token \(record.name) (\(record.role.rawValue))"), in: connection)
            return record
        }
        return (token, record)
    }

    /// The valid token `token` is, or nil: unknown, revoked, expired at `time`, or not a vfiod token.
    public func lookup(token: String, at time: Date = Date()) throws -> TokenRecord? {
        if case .valid(let record) = try check(token: token, at: time) { return record }
        return nil
    }

    /// What `token` is at `time`: valid, expired, or unknown (revoked tokens included). Looks the row up
    /// by the token's SHA-256 on a read connection and compares the hashes again in constant time. Throws
    /// `DatabaseError` when the database cannot be read: the caller must not take that for "unknown".
    public func check(token: String, at time: Date = Date()) throws -> TokenCheck {
        guard token.hasPrefix(TokenSecret.prefix), token.utf8.count <= 256 else { return .unknown }
        let hash = TokenSecret.hash(token)
        let rows = try database.read { connection in
            try connection.query("SELECT \(Self.columns), token_hash FROM tokens WHERE token_hash = ?",
                                 bindings: [.text(hash)]) { row in (try Self.record(row), row.string(7)) }
        }
        guard let (record, storedHash) = rows.first, TokenSecret.constantTimeEqual(storedHash, hash),
              !record.isRevoked
        else { return .unknown }
        return record.isExpired(at: time) ? .expired(record) : .valid(record)
    }

    /// Every token, revoked and expired ones included, by name.
    public func list() throws -> [TokenRecord] {
        try list(after: nil, limit: nil)
    }

    /// Tokens by name: those named after `name` (all when nil), at most `limit` (all when nil).
    public func list(after name: String?, limit: Int?) throws -> [TokenRecord] {
        var sql = "SELECT \(Self.columns) FROM tokens"
        var bindings: [SQLValue] = []
        if let name { sql += " WHERE name > ?"; bindings.append(.text(name)) }
        sql += " ORDER BY name"
        if let limit { sql += " LIMIT ?"; bindings.append(.integer(Int64(max(0, limit)))) }
        let frozen = sql, values = bindings
        return try database.read { try $0.query(frozen, bindings: values, map: Self.record) }
    }

    /// Revokes the token named `name` and returns its record, with the audit row `token.revoked` naming
    /// `actor` in the same transaction. Revoking a revoked token changes nothing (it keeps its first
    /// `revokedAt`, and no second row is audited). Throws `TokenStoreError.unknownName` when there is none.
    @discardableResult
    public func revoke(name: String, actor: String = "cli", requestID: String? = nil,
                       at time: Date = Date()) throws -> TokenRecord {
        try database.write { connection in
            let changed = try connection.run("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                             .text(Timestamp.format(time)), .text(name))
            let record = try Self.record(named: name, connection)
            if changed > 0, let revokedAt = record.revokedAt {
                let after = ["name": record.name, "role": record.role.rawValue, "revokedAt": Timestamp.format(revokedAt)]
                try AuditLog.append(AuditEntry(time: time, actor: actor, requestID: requestID, action: "token.revoked",
                                               tenant: record.tenant, after: after,
                                               detail: "token \(record.name) (\(record.role.rawValue))"), in: connection)
            }
            return record
        }
    }

    static let columns = "id, name, role, tenant, created_at, revoked_at, expires_at"

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
        func time(_ column: Int, _ name: String) throws -> Date? {
            guard let text = row.nullableString(column) else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw TokenStoreError.invalidRow(id: id, reason: "\(name) '\(text)' is not RFC 3339")
            }
            return date
        }
        guard let createdAt = try time(4, "created_at") else {
            throw TokenStoreError.invalidRow(id: id, reason: "created_at is NULL")
        }
        return TokenRecord(id: id, name: row.string(1), role: role, tenant: row.nullableString(3),
                           createdAt: createdAt, revokedAt: try time(5, "revoked_at"),
                           expiresAt: try time(6, "expires_at"))
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
