extension HTTPServer {
    /// Sets up TLS for the listening socket `fd` when configured: loads the key pair and lets the daemon's
    /// handshakes find it. Nil without TLS.
    func startTLS(listening fd: Int32) throws(HTTPServerError) -> TLSListener? {
        guard let configuration = core.configuration.tls else { return nil }
        let listener = try TLSListener(configuration)
        try listener.register(fd)
        core.tls.withLock { $0 = listener }
        return listener
    }

    /// Loads the configured certificate and key again and serves them from the next TLS handshake on:
    /// connections, requests in flight and everything behind them stay. Returns what is served now
    /// ("serial …, subject …, expires …"). Throws (and keeps serving the previous key pair) when the files
    /// are unreadable, do not match, or the certificate has expired; also when TLS is not configured or the
    /// server has not started.
    public func reloadTLS() throws(HTTPServerError) -> String {
        guard let listener = core.tls.withLock({ $0 }) else {
            throw HTTPServerError("TLS is not configured (no --tls-cert and --tls-key)")
        }
        return try listener.load()
    }

    /// What the TLS key pair served now is ("serial …, subject …, expires …"); nil without TLS.
    public var tlsSummary: String? { core.tls.withLock { $0 }?.summary }
}
