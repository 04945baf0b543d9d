internal import CMicroHTTPD
internal import Synchronization

/// The part of the server libmicrohttpd's callbacks reach (through `cls`): reads requests, runs the
/// handler in a task while the connection is suspended, queues responses, counts what is in flight.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let tracking = RequestTracking()
    /// Set when shutdown begins: responses then carry `Connection: close`.
    let draining = Atomic<Bool>(false)
    /// Set when shutdown gave up waiting: new requests get 503 instead of a handler.
    let refusing = Atomic<Bool>(false)
    /// The TLS key pairs, set at start when TLS is configured; they live as long as the daemon using them.
    let tls = Mutex<TLSListener?>(nil)

    /// Body bytes read and thrown away after the cap was passed before the connection is dropped.
    var discardLimit: Int { max(configuration.maxBodyBytes, 1 << 20) * 8 }

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// One call of the access handler. Returns false to make libmicrohttpd drop the connection.
    func access(_ state: RequestState, method: String, uploadData: UnsafePointer<CChar>?,
                uploadDataSize: UnsafeMutablePointer<Int>) -> Bool {
        switch state.phase {
        case .new:
            return readHead(state, method: method)
        case .receiving:
            let size = uploadDataSize.pointee
            if size > 0 {
                receiveBody(state, uploadData, size)
                uploadDataSize.pointee = 0
                return state.receivedBytes <= discardLimit
            }
            if let problem = state.earlyProblem {
                return queue(.problem(problem), for: state)
            }
            dispatch(state)
            return true
        case .suspended:
            // The call after MHD_resume_connection: the response is in the handoff.
            if state.isRegisteredSuspended {
                state.isRegisteredSuspended = false
                tracking.unsuspended(state)
            }
            let response = state.takeResponse() ?? .problem(.shuttingDown)
            return queue(response, for: state)
        case .responded:
            return true
        }
    }

    /// The first call: headers are in. Never queues here (that would make libmicrohttpd close the
    /// connection) except for a `Content-Length` over the cap, where closing is what we want.
    private func readHead(_ state: RequestState, method: String) -> Bool {
        state.phase = .receiving
        state.method = asciiUppercased(method)
        state.headers = MHDRequestReader.headers(of: state.connection)
        state.remoteAddress = MHDRequestReader.remoteAddress(of: state.connection)
        if let tls = configuration.tls {
            // The connection's GnuTLS session lives as long as the connection, which outlives this call.
            state.clientCertificateSubject = TLSListener.verifiedPeerSubject(of: vfiod_mhd_tls_session(state.connection))
            // The handshake already refused clients without a verified certificate; never serve one regardless.
            if tls.clientCAPath != nil && state.clientCertificateSubject == nil { return false }
        }
        state.requestID = RequestID.choose(clientSent: state.header("X-Request-Id"))
        switch RequestTarget.parse(state.rawTarget) {
        case .success(let target):
            state.path = target.path
            state.query = target.query
        case .failure(let failure):
            let question = state.rawTarget.firstIndex(of: UInt8(ascii: "?")) ?? state.rawTarget.endIndex
            state.path = String(decoding: state.rawTarget[..<question], as: UTF8.self)
            state.earlyProblem = failure == .malformedPath ? .malformedPath : .malformedQuery
        }
        if let declared = state.header("Content-Length"), let length = Int(declared),
           length > configuration.maxBodyBytes {
            // Answered before the body is read; libmicrohttpd will not read it and closes afterwards.
            return queue(.problem(.payloadTooLarge(limit: configuration.maxBodyBytes)), for: state)
        }
        return true
    }

    /// Keeps body bytes up to the cap; past it, forgets the body and answers 413 on the final call.
    private func receiveBody(_ state: RequestState, _ data: UnsafePointer<CChar>?, _ size: Int) {
        state.receivedBytes += size
        guard state.earlyProblem == nil, let data else { return }
        if state.receivedBytes > configuration.maxBodyBytes {
            state.body = []
            state.earlyProblem = .payloadTooLarge(limit: configuration.maxBodyBytes)
            return
        }
        // libmicrohttpd guarantees `size` readable bytes at `data` for the duration of this call.
        data.withMemoryRebound(to: UInt8.self, capacity: size) { bytes in
            state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: size))
        }
    }

    /// The final call: suspend the connection, run the handler in a task, resume when it answers.
    private func dispatch(_ state: RequestState) {
        // Suspend first: the task may finish (and resume) before this function returns, which is fine
        // because libmicrohttpd processes resumptions on this same thread after we return.
        MHD_suspend_connection(state.connection)
        state.phase = .suspended
        state.isRegisteredSuspended = true
        tracking.suspended(state)
        // Checked after registering, so a forced shutdown either sees this request in its snapshot
        // or this check sees `refusing` (both atomics are sequentially consistent).
        if refusing.load(ordering: .sequentiallyConsistent) {
            deliver(.problem(.shuttingDown), to: state)
            return
        }
        let request = state.makeRequest()
        state.body = []
        let handler = self.handler
        Task {
            let response = await handler(request)
            self.deliver(response, to: state)
        }
    }

    /// Hands `response` to the connection and resumes it, unless a forced shutdown got there first.
    func deliver(_ response: HTTPResponse, to state: RequestState) {
        guard state.claimResume(with: response) else { return }
        // The connection is suspended until this call, so it still exists.
        MHD_resume_connection(state.connection)
    }

    /// Builds the libmicrohttpd response and queues it.
    private func queue(_ response: HTTPResponse, for state: RequestState) -> Bool {
        let response = response.fillingProblem(path: state.path, requestID: state.requestID)
        state.phase = .responded
        state.sentStatus = response.status
        state.sentBytes = state.method == "HEAD" ? 0 : response.body.count
        let closing = draining.load(ordering: .relaxed)
        guard let mhdResponse = MHDResponseFactory.make(response, requestID: state.requestID, closing: closing)
        else { return false }
        defer { MHD_destroy_response(mhdResponse) }
        return MHD_queue_response(state.connection, UInt32(response.status), mhdResponse) == .YES
    }

    /// The completion callback: log, stop counting, drop the state.
    func completed(_ state: RequestState, ok: Bool) {
        if state.isRegisteredSuspended {
            state.isRegisteredSuspended = false
            tracking.unsuspended(state)
        }
        if let log = configuration.accessLog, state.phase != .new {
            log(AccessLogEntry(
                unixTimeMicroseconds: state.startUnix, requestID: state.requestID, method: state.method,
                path: state.path, status: state.sentStatus, bytes: state.sentBytes,
                durationMicroseconds: monotonicMicroseconds() - state.startMonotonic,
                remote: state.remoteAddress, completed: ok && state.sentStatus != 0))
        }
        tracking.requestEnded()
    }
}

/// ASCII upper-casing without Foundation or locale.
func asciiUppercased(_ text: String) -> String {
    String(decoding: text.utf8.map { ($0 >= 0x61 && $0 <= 0x7A) ? $0 - 0x20 : $0 }, as: UTF8.self)
}
