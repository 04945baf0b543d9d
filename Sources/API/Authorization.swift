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

/// Turns a bearer token into a principal. Implementations keep the token hashes, never the tokens.
public protocol TokenVerifier: Sendable {
    /// The principal for `token`, or `nil` when it is unknown or revoked.
    func principal(for token: String) async -> Principal?
    /// The principal a verified client certificate with `subject` stands for, or `nil` when none is
    /// configured. Asked only for requests without an `Authorization` header.
    func principal(forCertificateSubject subject: String) async -> Principal?
}

extension TokenVerifier {
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
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1].utf8.count <= 256 else { throw .unauthenticated }
            guard let found = await verifier.principal(for: String(parts[1])) else { throw .invalidToken }
            principal = found
        }
        guard permission.admits(principal.role) else { throw .forbidden(principal.role) }
        return principal
    }
}
