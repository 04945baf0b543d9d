internal import CMicroHTTPD
internal import Synchronization

/// What the server keeps for one request while libmicrohttpd works on it, from the URI log callback to
/// the completion callback (which releases it).
///
/// Everything but `handoff` is touched only by the libmicrohttpd thread that owns the connection
/// (libmicrohttpd calls every callback of one connection from that thread), hence `@unchecked`.
final class RequestState: @unchecked Sendable {
    enum Phase {
        /// The URI is known; the headers are about to be seen by the first access-handler call.
        case new
        /// Headers read; body chunks arriving (or none); waiting for the final call.
        case receiving
        /// The connection is suspended while the handler runs in a task.
        case suspended
        /// A response was queued.
        case responded
    }

    /// The handoff between the handler's task (or a forced shutdown) and the libmicrohttpd thread.
    struct Handoff {
        /// Set before the connection is resumed; queued by the next access-handler call.
        var response: HTTPResponse?
        /// True once someone has claimed the right to resume the connection (exactly once).
        var resumeClaimed = false
    }

    /// The libmicrohttpd connection; valid until the completion callback.
    let connection: OpaquePointer
    /// The raw request target (`/path?query`) as the client sent it.
    let rawTarget: [UInt8]
    let startMonotonic = monotonicMicroseconds()
    let startUnix = currentUnixMicroseconds()

    var phase = Phase.new
    var method = ""
    var path = ""
    /// `path`'s decoded segments, once the target parsed.
    var segments: [String]?
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var remoteAddress = ""
    /// The subject of the client certificate the TLS handshake verified, if any.
    var clientCertificateSubject: String?
    var requestID = ""
    /// A problem found while reading the request, answered on the final call instead of the handler.
    var earlyProblem: Problem?
    /// Body bytes received, kept or not.
    var receivedBytes = 0
    /// True while the connection is counted in the server's suspended set.
    var isRegisteredSuspended = false
    /// The streamed response queued on the connection, from `queue` to the completion callback.
    var stream: ResponseStream?
    /// What was queued, for the access log.
    var sentStatus = 0
    var sentBytes = 0

    let handoff = Mutex(Handoff())
    /// The connection's entry in the server's registry (nil if libmicrohttpd did not give it).
    let entry: ConnectionEntry?

    init(connection: OpaquePointer, rawTarget: [UInt8], entry: ConnectionEntry?) {
        self.connection = connection
        self.rawTarget = rawTarget
        self.entry = entry
    }

    /// Stores `response` and claims the right to resume the connection. False when someone else has
    /// already claimed it (the handler finished after a forced shutdown answered 503): then the caller
    /// must not touch the connection, which may be gone.
    func claimResume(with response: HTTPResponse) -> Bool {
        handoff.withLock { handoff in
            if handoff.resumeClaimed { return false }
            handoff.resumeClaimed = true
            handoff.response = response
            return true
        }
    }

    /// The response left by `claimResume`, once.
    func takeResponse() -> HTTPResponse? {
        handoff.withLock { handoff in
            defer { handoff.response = nil }
            return handoff.response
        }
    }

    /// The request as handlers see it.
    func makeRequest() -> HTTPRequest {
        var request = HTTPRequest(method: method, path: path, query: query, headers: headers, body: body,
                                  remoteAddress: remoteAddress, requestID: requestID,
                                  clientCertificateSubject: clientCertificateSubject)
        request.parsedPath = segments.map { (path: path, segments: $0) }
        return request
    }

    /// The first header called `name`, ASCII case-insensitively.
    func header(_ name: String) -> String? {
        for (key, value) in headers where asciiCaseInsensitiveEquals(key, name) {
            return value
        }
        return nil
    }
}
