/// The answer a client's first request with an `Idempotency-Key` got, kept so that a retry with the same
/// key and body gets the same answer. The store keeps it without reading it: the status and body are the
/// HTTP layer's, the ids name what the request created.
public struct IdempotencyRecord: Sendable, Hashable {
    /// Who sent the key (a token's name): keys are per caller.
    public var actor: String
    /// The client's key.
    public var key: String
    /// A hash of the request body: the same key with another body is refused.
    public var requestHash: String
    /// The answer's status.
    public var status: Int
    /// The answer's body.
    public var body: [UInt8]
    /// The assignment the request created.
    public var assignmentID: String
    /// The operation the request started.
    public var operationID: String
    /// When it was stored (RFC 3339).
    public var createdAt: String

    /// Creates a record.
    public init(actor: String, key: String, requestHash: String, status: Int, body: [UInt8], assignmentID: String,
                operationID: String, createdAt: String) {
        self.actor = actor
        self.key = key
        self.requestHash = requestHash
        self.status = status
        self.body = body
        self.assignmentID = assignmentID
        self.operationID = operationID
        self.createdAt = createdAt
    }
}

/// The `idempotency_keys` table: a record is inserted in the same transaction as what its request created,
/// so a key is either unused or answered — never half-way.
public enum IdempotencyRecords {
    /// The record of `key` sent by `actor`, if one was stored.
    public static func get(actor: String, key: String, in connection: Connection) throws -> IdempotencyRecord? {
        try connection.query("""
            SELECT request_hash, status, body, assignment_id, operation_id, created_at
              FROM idempotency_keys WHERE actor = ? AND key = ? AND status IS NOT NULL
            """, bindings: [.text(actor), .text(key)]) { row in
            IdempotencyRecord(actor: actor, key: key, requestHash: row.string(0), status: Int(row.int64(1)),
                              body: row.nullableBlob(2) ?? [], assignmentID: row.nullableString(3) ?? "",
                              operationID: row.nullableString(4) ?? "", createdAt: row.string(5))
        }.first
    }

    /// Stores `record`. Throws `IdempotencyKeyTaken` when the caller already used the key (a concurrent
    /// request with it committed first).
    public static func insert(_ record: IdempotencyRecord, in connection: Connection) throws {
        do {
            try connection.run("""
                INSERT INTO idempotency_keys (actor, key, request_hash, status, body, assignment_id, operation_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, .text(record.actor), .text(record.key), .text(record.requestHash), .integer(Int64(record.status)),
                .blob(record.body), .text(record.assignmentID), .text(record.operationID), .text(record.createdAt))
        } catch let error as DatabaseError where error.primaryCode == 19 {
            throw IdempotencyKeyTaken(actor: record.actor, key: record.key)
        }
    }

    /// Removes `record` (its request's effect was undone before anyone could rely on it).
    public static func delete(_ record: IdempotencyRecord, in connection: Connection) throws {
        try connection.run("DELETE FROM idempotency_keys WHERE actor = ? AND key = ?", .text(record.actor), .text(record.key))
    }
}

/// An `Idempotency-Key` was stored by another request of the same caller first.
public struct IdempotencyKeyTaken: Error, Sendable, Hashable {
    /// The caller.
    public let actor: String
    /// The key.
    public let key: String
}
