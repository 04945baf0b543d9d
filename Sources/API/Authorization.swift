public import Foundation
import HTTPServer
public import Store

/// What a token may do: `viewer` reads the inventory and assignments; `operator` also creates, renews
/// and releases its own tenant's assignments; `auditor` reads and reads the audit history; `admin` does
/// everything. The store keeps the same four names with each token's hash.
public typealias Role = TokenRole

/// The authenticated caller of one request.
public struct Principal: Sendable, Hashable {
    /// The token's name: the audit history's actor.
    public var name: String
    /// Its role.
    public var role: Role
    /// The only tenant it acts for (operators); `nil` for all.
    public var tenant: String?

    /// Creates a principal.
    public init(name: String, role: Role, tenant: String?) {
        self.name = name
        self.role = role
        self.tenant = tenant
    }

    /// The caller when authentication is turned off (loopback listeners only).
    public static let anonymousAdmin = Principal(name: "anonymous", role: .admin, tenant: nil)
}

/// What a verifier found for a bearer token.
public enum TokenVerdict: Sendable, Hashable {
    /// The token is valid: it acts as this principal.
    case valid(Principal)
    /// Unknown or revoked (the answer does not say which): `401`.
    case unknown
    /// A token that expired at this time: `401`, saying so.
    case expired(at: Date)
    /// The token could not be checked now (the database fails): `503` with the reason, never `401`.
    case unavailable(reason: String)
}

/// Turns a bearer token into a principal. Implementations keep the token hashes, never the tokens.
public protocol TokenVerifier: Sendable {
    /// What `token` is now. A verifier that cannot tell (its store fails) answers `.unavailable`,
    /// never `.unknown`: a valid token must not be refused as if it were wrong.
    func verify(_ token: String) async -> TokenVerdict

    /// Forgets whatever it remembers of the token named `name`, which was just revoked.
    func revoked(name: String)

    /// The principal of `token` when the verifier can tell at once, without waiting for anything, that
    /// `verify` would answer `.valid` with it now (a token it verified before and knows unchanged since);
    /// nil when it cannot tell that way (then `verify` decides). Never weaker than `verify`.
    func immediatePrincipal(_ token: String) -> Principal?

    /// The principal a verified client certificate with `subject` stands for, or `nil` when none is
    /// configured. Asked only for requests without an `Authorization` header.
    func principal(forCertificateSubject subject: String) async -> Principal?
}

extension TokenVerifier {
    /// A verifier that remembers nothing has nothing to forget.
    public func revoked(name: String) {}

    /// A verifier that remembers nothing cannot tell at once.
    public func immediatePrincipal(_ token: String) -> Principal? { nil }

    /// No client certificate stands for a principal unless the verifier says so.
    public func principal(forCertificateSubject subject: String) async -> Principal? { nil }
}

/// Which requests a route admits.
enum Permission: Sendable {
    /// No token needed (health, readiness, metrics, the contract).
    case open
    /// Any role.
    case read
    /// Auditors and admins.
    case audit
    /// Operators (own tenant) and admins.
    case lease
    /// Admins.
    case admin

    func admits(_ role: Role) -> Bool {
        switch self {
        case .open, .read: true
        case .audit: role == .auditor || role == .admin
        case .lease: role == .operator || role == .admin
        case .admin: role == .admin
        }
    }
}

/// How requests are authenticated.
public enum AuthenticationMode: Sendable {
    /// Bearer tokens, checked by the verifier.
    case tokens(any TokenVerifier)
    /// Everyone is an anonymous admin. Only allowed on loopback listeners (the app enforces it).
    case disabled
}

extension APIError {
    static let unauthenticated = APIError(401, "unauthenticated", "Authentication required",
                                          "send Authorization: Bearer <token>; vfiod token create makes one")
    static let invalidToken = APIError(401, "unauthenticated", "Authentication required",
                                       "the bearer token is unknown or revoked")
    static let unknownCertificate = APIError(401, "unauthenticated", "Authentication required",
                                             "the client certificate's subject has no identity in tls.clientIdentities; send Authorization: Bearer <token>")
    static func expiredToken(at time: Date) -> APIError {
        APIError(401, "unauthenticated", "Authentication required",
                 "the bearer token expired at \(Timestamp.format(time)); ask an admin for a new one")
    }
    static func storageUnavailable(_ reason: String) -> APIError {
        APIError(503, "storage_unavailable", "Storage unavailable",
                 "the bearer token cannot be checked now: \(reason)", headers: [("Retry-After", "1")])
    }
    static func forbidden(_ role: Role) -> APIError {
        APIError(403, "forbidden", "Forbidden", "the \(role.rawValue) role may not do this")
    }
}

extension APIContext {
    /// The principal of `request`, or the problem that refuses it.
    func authenticate(_ request: HTTPRequest, _ permission: Permission) async throws(APIError) -> Principal {
        if case .open = permission { return .anonymousAdmin }
        let principal: Principal
        switch authentication {
        case .disabled:
            principal = .anonymousAdmin
        case .tokens(let verifier):
            // A verified client certificate authenticates like a token when no token is sent.
            if request.header("Authorization") == nil, let subject = request.clientCertificateSubject {
                guard let found = await verifier.principal(forCertificateSubject: subject) else { throw .unknownCertificate }
                principal = found
                break
            }
            guard let header = request.header("Authorization") else { throw .unauthenticated }
            guard let token = Self.bearerToken(header) else { throw .unauthenticated }
            switch await verifier.verify(token) {
            case .valid(let found): principal = found
            case .unknown: throw .invalidToken
            case .expired(let time): throw .expiredToken(at: time)
            case .unavailable(let reason): throw .storageUnavailable(reason)
            }
        }
        guard permission.admits(principal.role) else { throw .forbidden(principal.role) }
        return principal
    }

    /// The caller of `request` when it is known at once: authentication off, an open route, or a bearer
    /// token the verifier vouches for without a lookup. Nil: only `authenticate` can tell. Throws what
    /// `authenticate` would throw for such a caller (a role the route does not admit).
    func authenticateImmediately(_ request: HTTPRequest, _ permission: Permission) throws(APIError) -> Principal? {
        if case .open = permission { return .anonymousAdmin }
        let principal: Principal
        switch authentication {
        case .disabled:
            principal = .anonymousAdmin
        case .tokens(let verifier):
            guard let header = request.header("Authorization"), let token = Self.bearerToken(header),
                  let found = verifier.immediatePrincipal(token) else { return nil }
            principal = found
        }
        guard permission.admits(principal.role) else { throw .forbidden(principal.role) }
        return principal
    }

    /// `bearer ` in lowercase bytes.
    private static let bearerScheme: [UInt8] = Array("bearer ".utf8)

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, at most 256
    /// bytes), or nil.
    static func bearerToken(_ header: String) -> String? {
        // The usual form, `Bearer ` then an ASCII byte other than a space, read from the bytes; anything
        // else the general way below (which answers the same for the usual form).
        // Through the contiguous bytes (a native string's): no iterator per byte.
        let usual: String?? = header.utf8.withContiguousStorageIfAvailable { bytes -> String? in
            guard bytes.count > 7, bytes.count <= 7 + 256, bytes[7] < 0x80, bytes[7] != UInt8(ascii: " ") else { return nil }
            for (index, expected) in bearerScheme.enumerated() {
                let byte = bytes[index]
                guard (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == expected else { return nil }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[7...]), as: UTF8.self)
        }
        if case .some(.some(let token)) = usual { return token }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1].utf8.count <= 256 else { return nil }
        return String(parts[1])
    }
}
