import Foundation

/// What an API token may do.
public enum TokenRole: String, Sendable, Hashable, CaseIterable {
    /// Reads inventory and assignments.
    case viewer
    /// Creates and releases assignments for its own tenant (an operator token always has a tenant).
    case `operator`
    /// Reads and exports the audit history.
    case auditor
    /// Everything, tokens included.
    case admin
}

/// One row of `tokens`: a token's name, role and tenant, never the token itself.
public struct TokenRecord: Sendable, Hashable {
    /// The row id.
    public let id: Int64
    /// Unique for ever (revoked tokens keep theirs); the audit history's `actor` for this token.
    public let name: String
    /// What the token may do.
    public let role: TokenRole
    /// The tenant it acts for: always set for `.operator`, optional for the others.
    public let tenant: String?
    /// When it was created (millisecond precision).
    public let createdAt: Date
    /// When it was revoked (millisecond precision); nil while it is valid.
    public let revokedAt: Date?
    /// When it stops being accepted (millisecond precision); nil when it never expires.
    public let expiresAt: Date?

    /// Whether the token was revoked.
    public var isRevoked: Bool { revokedAt != nil }

    /// Whether the token has expired at `time` (it is refused from `expiresAt` on).
    public func isExpired(at time: Date) -> Bool {
        guard let expiresAt else { return false }
        return time >= expiresAt
    }
}

/// What `TokenStore.check(token:at:)` found for a presented token.
public enum TokenCheck: Sendable, Hashable {
    /// A token that is accepted now.
    case valid(TokenRecord)
    /// A token that was valid but expired (not revoked): refused, with its own message.
    case expired(TokenRecord)
    /// Unknown, revoked, or not a vfiod token at all: refused without saying which.
    case unknown
}

/// Why `TokenStore` refused a request or could not read its table.
public enum TokenStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is empty, too long, reserved, or has characters outside `A-Z a-z 0-9 . _ -`.
    case invalidName(String, reason: String)
    /// The tenant is empty, too long, or has characters outside `A-Z a-z 0-9 . _ -`.
    case invalidTenant(String, reason: String)
    /// An operator token must name the tenant it acts for.
    case operatorNeedsTenant
    /// A token (valid or revoked) already has this name.
    case nameTaken(String)
    /// No token has this name.
    case unknownName(String)
    /// A stored row does not fit the types (an unknown role, a malformed time).
    case invalidRow(id: Int64, reason: String)
    /// The expiry is not after the creation time.
    case invalidExpiry(String)

    /// One line for logs and problem details.
    public var description: String {
        switch self {
        case let .invalidName(name, reason): "token name '\(name)' is invalid: \(reason)"
        case let .invalidTenant(tenant, reason): "tenant '\(tenant)' is invalid: \(reason)"
        case .operatorNeedsTenant: "an operator token must have a tenant"
        case let .nameTaken(name): "a token named '\(name)' already exists (names are never reused)"
        case let .unknownName(name): "no token is named '\(name)'"
        case let .invalidRow(id, reason): "tokens row \(id) is invalid: \(reason)"
        case let .invalidExpiry(reason): "the expiry is invalid: \(reason)"
        }
    }
}
