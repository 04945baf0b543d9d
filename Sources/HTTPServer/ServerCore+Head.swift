internal import CMicroHTTPD
/// The first access-handler call of a request: its head is in.
extension ServerCore {
    /// Reads the head and answers at once what cannot wait for the body: a head over its limits or with
    /// ambiguous framing (then the connection closes), a reserve connection asking for anything but
    /// health, and a `Content-Length` over the body cap. Queuing here makes libmicrohttpd skip the body
    /// and close afterwards, which is what those answers want. Other early problems (a malformed
    /// path) wait for the final call, so the connection can be kept.
    func readHead(_ state: RequestState, method: String, version: String) -> Bool {
        state.phase = .receiving
        state.method = asciiUppercased(method)
        state.headers = MHDRequestReader.headers(of: state.connection)
        // The connection's entry already formatted the peer's address when it was admitted.
        state.remoteAddress = state.entry?.address ?? MHDRequestReader.remoteAddress(of: state.connection)
        if let tls = configuration.tls {
            // The connection's GnuTLS session lives as long as the connection, which outlives this call.
            state.clientCertificateSubject = TLSListener.verifiedPeerSubject(of: vfiod_mhd_tls_session(state.connection))
            // The handshake already refused clients without a verified certificate; never serve one regardless.
            if tls.clientCAPath != nil && state.clientCertificateSubject == nil { return false }
        }
        state.requestID = RequestID.choose(clientSent: state.header("X-Request-Id"))
        let target = RequestHead.originForm(state.rawTarget)
        switch RequestTarget.parse(target) {
        case .success(let parsed):
            state.path = parsed.path
            state.query = parsed.query
            state.segments = parsed.segments
        case .failure(let failure):
            let question = target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
            state.path = String(decoding: target[..<question], as: UTF8.self)
            state.earlyProblem = failure == .malformedPath ? .malformedPath : .malformedQuery
        }
        state.entry?.updateAnswer { [path = state.path, id = state.requestID] answer in
            answer.path = path
            answer.requestID = id
        }
        if let problem = RequestHead.problem(version: version, targetBytes: state.rawTarget.count,
                                             headers: state.headers) {
            return queue(.problem(problem), for: state, closing: true)
        }
        if state.entry?.isReserve == true, !configuration.reservePaths.contains(state.path) {
            let retry = String(max(1, connections.deadline / 1_000_000))
            return queue(.problem(.tooManyConnections, headers: [("Retry-After", retry)]), for: state, closing: true)
        }
        if let declared = state.header("Content-Length"), let length = Int(declared),
           length > configuration.maxBodyBytes {
            // Answered before the body is read; libmicrohttpd will not read it and closes afterwards.
            return queue(.problem(.payloadTooLarge(limit: configuration.maxBodyBytes)), for: state, closing: true)
        }
        return true
    }
}
