import API
import HTTPServer
import Store

/// The TLS part of the configuration: `--tls-cert`, `--tls-key`, `--tls-client-ca` and the config file's
/// `tls` object, whose `clientIdentities` let a client certificate's subject stand for a token.
public struct TLSSettings: Sendable, Equatable {
    /// PEM certificate chain, leaf first.
    public var certificatePath: String?
    /// The leaf's PEM private key.
    public var keyPath: String?
    /// PEM CAs every client certificate must chain to; set, clients without one get no service.
    public var clientCAPath: String?
    /// Client certificate subjects that authenticate like a token of the given role and tenant.
    public var clientIdentities: [ClientIdentity] = []

    /// No TLS.
    public init() {}

    /// The server's TLS configuration; nil when TLS is off.
    var server: TLSConfiguration? {
        guard let certificatePath, let keyPath else { return nil }
        return TLSConfiguration(certificatePath: certificatePath, keyPath: keyPath, clientCAPath: clientCAPath)
    }

    /// Refuses settings that cannot work together.
    func validate() throws(ConfigurationError) {
        if (certificatePath == nil) != (keyPath == nil) {
            throw ConfigurationError("--tls-cert and --tls-key go together (tls.cert and tls.key in the config file)")
        }
        if clientCAPath != nil && certificatePath == nil {
            throw ConfigurationError("--tls-client-ca needs --tls-cert and --tls-key")
        }
        if !clientIdentities.isEmpty && clientCAPath == nil {
            throw ConfigurationError("tls.clientIdentities need --tls-client-ca (tls.clientCA): only verified certificates are trusted")
        }
        var seen = Set<String>()
        var names = Set<String>()
        for identity in clientIdentities {
            try identity.validate()
            guard seen.insert(identity.subject).inserted else {
                throw ConfigurationError("tls.clientIdentities: subject \(identity.subject) is listed twice")
            }
            // The name is the actor in the audit and scopes idempotency keys: two principals must not share one.
            guard names.insert(identity.principal.name).inserted else {
                throw ConfigurationError("tls.clientIdentities: the name \(identity.principal.name) stands for two subjects")
            }
        }
    }

    /// The principals the client identities stand for, by subject.
    var principals: [String: Principal] {
        Dictionary(uniqueKeysWithValues: clientIdentities.map { ($0.subject, $0.principal) })
    }
}

/// A client certificate subject that authenticates as a principal, exactly like a token of that name,
/// role and tenant: `{"subject": "CN=orchestrator,O=example", "role": "operator", "tenant": "team-a"}`.
public struct ClientIdentity: Sendable, Equatable, Decodable {
    /// The certificate's subject as RFC 4514 writes it, most specific first, no spaces after commas
    /// (`openssl x509 -noout -subject -nameopt RFC2253` prints it so).
    public var subject: String
    /// `viewer`, `operator`, `auditor` or `admin`.
    public var role: String
    /// The operator's tenant (required for operators, as for tokens).
    public var tenant: String?
    /// The audit history's actor; the subject when absent.
    public var name: String?

    /// Checks the role and tenant as `vfiod token create` does.
    func validate() throws(ConfigurationError) {
        guard let parsed = TokenRole(rawValue: role) else {
            throw ConfigurationError("tls.clientIdentities: \(subject): role must be viewer, operator, auditor or admin")
        }
        if parsed == .operator && (tenant ?? "").isEmpty {
            throw ConfigurationError("tls.clientIdentities: \(subject): an operator needs a tenant")
        }
        if subject.isEmpty { throw ConfigurationError("tls.clientIdentities: an empty subject") }
    }

    /// The principal requests with this certificate act as.
    var principal: Principal {
        Principal(name: name ?? subject, role: TokenRole(rawValue: role) ?? .viewer, tenant: tenant)
    }
}

/// A token verifier that also knows the configured client certificate identities.
final class CertificateIdentityVerifier: TokenVerifier {
    private let tokens: any TokenVerifier
    private let identities: [String: Principal]

    init(tokens: any TokenVerifier, identities: [String: Principal]) {
        self.tokens = tokens
        self.identities = identities
    }

    func verify(_ token: String) async -> TokenVerdict { await tokens.verify(token) }

    func revoked(name: String) { tokens.revoked(name: name) }

    func immediatePrincipal(_ token: String) -> Principal? { tokens.immediatePrincipal(token) }

    func principal(forCertificateSubject subject: String) async -> Principal? { identities[subject] }
}
