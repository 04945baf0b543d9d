/// What a handler answers: status, headers and body. The server adds `Content-Length`, `Date`,
/// `Server`, `X-Request-Id`, and a `Content-Type` when the handler set none.
public struct HTTPResponse: Sendable {
    /// How the body is produced.
    public enum Body: Sendable {
        /// The whole body, sent without copying (the bytes are kept alive until libmicrohttpd is done).
        case bytes([UInt8])
        /// Bytes sent over time (chunked, no `Content-Length`) until the stream finishes, the client
        /// goes, or the server shuts down. At most `maxStreams` are open; past that the client gets 503
        /// `too_many_streams` instead (and the stream's `onEnd(.refused)` runs).
        case stream(ResponseStream)
    }

    /// The status code.
    public var status: Int
    /// Response headers in order; names are sent as written.
    public var headers: [(String, String)]
    /// The body as produced by the handler.
    public var payload: Body
    /// Set by `problem(_:)` so the server can fill in the request path and ID before sending.
    public var problem: Problem?

    /// The body bytes (for `.bytes`; empty for `.stream`); setting replaces the payload with `.bytes`.
    public var body: [UInt8] {
        get {
            switch payload {
            case .bytes(let bytes): return bytes
            case .stream: return []
            }
        }
        set { payload = .bytes(newValue) }
    }

    /// Makes a response with a byte body.
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.payload = .bytes(body)
        self.problem = nil
    }

    /// The value of the first header called `name` (ASCII case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        for (key, value) in headers where asciiCaseInsensitiveEquals(key, name) {
            return value
        }
        return nil
    }

    /// Pre-encoded JSON (`application/json`). Pass bytes encoded once and reused: they are not copied.
    public static func json(_ bytes: [UInt8], status: Int = 200, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: bytes)
    }

    /// Plain UTF-8 text (`text/plain; charset=utf-8`).
    public static func text(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
                     body: Array(text.utf8))
    }

    /// An `application/problem+json` error with the problem's status.
    public static func problem(_ problem: Problem, headers: [(String, String)] = []) -> HTTPResponse {
        var response = HTTPResponse(
            status: problem.status,
            headers: [("Content-Type", "application/problem+json")] + headers,
            body: problem.jsonBytes)
        response.problem = problem
        return response
    }

    /// A streamed response: `stream`'s bytes as they are sent (`Content-Type` should be set, e.g.
    /// `text/event-stream`). The connection closes when the stream ends.
    public static func stream(_ stream: ResponseStream, status: Int = 200, headers: [(String, String)] = []) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: headers)
        response.payload = .stream(stream)
        return response
    }

    /// The stream, when the payload is `.stream`.
    public var stream: ResponseStream? {
        if case .stream(let stream) = payload { return stream }
        return nil
    }

    /// `304 Not Modified` carrying the current `ETag` (no body).
    public static func notModified(etag: String) -> HTTPResponse {
        HTTPResponse(status: 304, headers: [("ETag", etag)])
    }

    /// The response with the problem (if any) completed from the request and re-rendered.
    func fillingProblem(path: String, requestID: String) -> HTTPResponse {
        guard var problem, problem.instance == nil || problem.requestID == nil else { return self }
        if problem.instance == nil { problem.instance = path }
        if problem.requestID == nil { problem.requestID = requestID }
        var copy = self
        copy.problem = problem
        copy.payload = .bytes(problem.jsonBytes)
        return copy
    }
}
