internal import CMicroHTTPD
internal import Synchronization

/// The part of the server libmicrohttpd's callbacks reach (through `cls`): reads requests, runs the
/// handler in a task while the connection is suspended, queues responses, counts what is in flight.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    /// Asked before `handler`, on libmicrohttpd's thread; nil when there is none.
    let immediate: ImmediateHandler?
    let tracking = RequestTracking()
    /// Open connections: admission to the ordinary or reserve pool, and the request deadline.
    let connections: ConnectionRegistry
    /// Open streamed responses: heartbeats, dead clients, the end at shutdown.
    let streams: StreamRegistry
    /// Which browser origins may call, and the answers to their preflights.
    let cors: CORSPolicy
    /// Set when shutdown begins: responses then carry `Connection: close`.
    let draining = Atomic<Bool>(false)
    /// Set when shutdown gave up waiting: new requests get 503 instead of a handler.
    let refusing = Atomic<Bool>(false)
    /// The TLS key pairs, set at start when TLS is configured; they live as long as the daemon using them.
    let tls = Mutex<TLSListener?>(nil)

    /// Body bytes read and thrown away after the cap was passed before the connection is dropped, when
    /// there is no request deadline to bound them.
    var discardLimit: Int { max(configuration.maxBodyBytes, 1 << 20) * 8 }

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, immediate: ImmediateHandler? = nil) {
        self.configuration = configuration
        self.handler = handler
        self.immediate = immediate
        self.connections = ConnectionRegistry(configuration: configuration)
        self.streams = StreamRegistry(heartbeatSeconds: configuration.streamHeartbeatSeconds,
                                      stallSeconds: configuration.connectionTimeoutSeconds)
        self.cors = CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins)
    }

    /// One call of the access handler. Returns false to make libmicrohttpd drop the connection.
    func access(_ state: RequestState, method: String, version: String, uploadData: UnsafePointer<CChar>?,
                uploadDataSize: UnsafeMutablePointer<Int>) -> Bool {
        if state.phase == .new || state.phase == .receiving,
           let keep = state.entry?.lateVerdict(now: monotonicMicroseconds(), grace: connections.grace) {
            // The deadline sweeper answered this request: discard what still comes, then close.
            let size = uploadDataSize.pointee
            uploadDataSize.pointee = 0
            return keep && size > 0
        }
        switch state.phase {
        case .new:
            return readHead(state, method: method, version: version)
        case .receiving:
            let size = uploadDataSize.pointee
            if size > 0 {
                receiveBody(state, uploadData, size)
                uploadDataSize.pointee = 0
                // With a deadline, an over-long body is read to its end (or the deadline) for its 413.
                return state.receivedBytes <= discardLimit || connections.deadline > 0
            }
            if let problem = state.earlyProblem {
                return queue(.problem(problem), for: state)
            }
            if let preflight = cors.preflightAnswer(method: state.method, origin: state.header("Origin"),
                                                    requestMethod: state.header("Access-Control-Request-Method")) {
                return queue(preflight, for: state)
            }
            return dispatch(state)
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

    /// Keeps body bytes up to the cap; past it, forgets the body and answers 413 on the final call.
    private func receiveBody(_ state: RequestState, _ data: UnsafePointer<CChar>?, _ size: Int) {
        state.receivedBytes += size
        guard state.earlyProblem == nil, let data else { return }
        if state.receivedBytes > configuration.maxBodyBytes {
            state.body = []
            let problem = Problem.payloadTooLarge(limit: configuration.maxBodyBytes)
            state.earlyProblem = problem
            state.entry?.updateAnswer { $0.problem = problem }
            return
        }
        // libmicrohttpd guarantees `size` readable bytes at `data` for the duration of this call.
        data.withMemoryRebound(to: UInt8.self, capacity: size) { bytes in
            state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: size))
        }
    }

    /// The final call: answer at once when the immediate handler can; otherwise suspend the connection,
    /// run the handler in a task, resume when it answers. False (drop the connection) when the deadline
    /// sweeper answered the request first.
    private func dispatch(_ state: RequestState) -> Bool {
        guard state.entry?.finishReceiving() ?? true else { return false }
        let request = state.makeRequest()
        state.body = []
        // A server refusing new requests answers 503 below; a draining one still answers at once.
        if let immediate, !refusing.load(ordering: .sequentiallyConsistent), let response = immediate(request) {
            return queue(response, for: state)
        }
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
            return true
        }
        let handler = self.handler
        Task {
            let response = await handler(request)
            self.deliver(response, to: state)
        }
        return true
    }

    /// Hands `response` to the connection and resumes it, unless a forced shutdown got there first.
    func deliver(_ response: HTTPResponse, to state: RequestState) {
        guard state.claimResume(with: response) else {
            response.stream?.end(.refused)
            return
        }
        // The connection is suspended until this call, so it still exists.
        MHD_resume_connection(state.connection)
    }

    /// Builds the libmicrohttpd response and queues it; `closing` adds `Connection: close`, as do a
    /// draining server and a reserve connection. False when the deadline sweeper answered first.
    func queue(_ response: HTTPResponse, for state: RequestState, closing: Bool = false) -> Bool {
        guard state.entry?.finishReceiving() ?? true else {
            response.stream?.end(.refused)
            return false
        }
        var response = response
        if let stream = response.stream, let refusal = openStream(stream, for: state) {
            response = refusal
        }
        response = response.fillingProblem(path: state.path, requestID: state.requestID)
        if cors.isEnabled { response.headers += cors.responseHeaders(origin: state.header("Origin")) }
        state.phase = .responded
        state.sentStatus = response.status
        state.sentBytes = state.method == "HEAD" ? 0 : response.body.count
        // A stream's connection closes when the stream ends.
        let closing = closing || draining.load(ordering: .relaxed) || state.entry?.isReserve == true
            || response.stream != nil
        guard let mhdResponse = MHDResponseFactory.make(response, requestID: state.requestID, closing: closing)
        else {
            if let stream = state.stream {
                state.stream = nil
                streams.remove(stream)
                stream.end(.refused)
            }
            return false
        }
        defer { MHD_destroy_response(mhdResponse) }
        return MHD_queue_response(state.connection, UInt32(response.status), mhdResponse) == .YES
    }

    /// The completion callback: end the stream if any, log, stop counting, drop the state.
    func completed(_ state: RequestState, ok: Bool) {
        if let stream = state.stream {
            state.stream = nil
            streams.remove(stream)
            state.sentBytes = stream.bytesTaken
            stream.connectionEnded(ok: ok, draining: draining.load(ordering: .relaxed))
        }
        state.entry?.requestEnded(now: monotonicMicroseconds())
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
