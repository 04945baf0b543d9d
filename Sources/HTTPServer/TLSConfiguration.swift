/// TLS for an `HTTPServer`: the key pair it serves and, optionally, the certificate authorities every
/// client's certificate must chain to. A TLS listener serves nothing in plain HTTP: a client that does not
/// complete a TLS handshake gets no HTTP reply.
public struct TLSConfiguration: Sendable, Equatable {
    /// The PEM certificate chain, leaf first (intermediates after it).
    public var certificatePath: String
    /// The leaf's PEM private key (unencrypted).
    public var keyPath: String
    /// PEM certificates of the CAs client certificates must chain to. When set, a handshake without a
    /// certificate that verifies against them fails, and each request carries its client certificate's
    /// subject (`HTTPRequest.clientCertificateSubject`). Read once, at start.
    public var clientCAPath: String?

    /// A TLS configuration; the files are read when the server starts (and the key pair again on
    /// `HTTPServer.reloadTLS()`).
    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
    }
}
