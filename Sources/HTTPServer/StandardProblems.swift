/// The problems the HTTP layer itself answers with. `instance` and `requestId` are filled in by the
/// server before sending.
extension Problem {
    /// 404 `route_not_found`: no route has this path.
    public static func routeNotFound(path: String) -> Problem {
        Problem(status: 404, code: "route_not_found", title: "No such route",
                detail: "No route matches the path \(path).")
    }

    /// 405 `method_not_allowed`: the path exists but not with this method.
    public static func methodNotAllowed(method: String, allowed: [String]) -> Problem {
        Problem(status: 405, code: "method_not_allowed", title: "Method not allowed",
                detail: "\(method) is not allowed here; allowed: \(allowed.joined(separator: ", ")).")
    }

    /// 400 `malformed_path`: `..`, `//`, NUL, bad percent-encoding or not UTF-8.
    public static let malformedPath = Problem(
        status: 400, code: "malformed_path", title: "Malformed path",
        detail: "The path contains an empty, '.' or '..' segment, a control byte, invalid percent-encoding or invalid UTF-8.")

    /// 400 `malformed_query`: bad percent-encoding, NUL or not UTF-8 in the query.
    public static let malformedQuery = Problem(
        status: 400, code: "malformed_query", title: "Malformed query",
        detail: "The query contains invalid percent-encoding, a control byte or invalid UTF-8.")

    /// 413 `payload_too_large`: the body is larger than the server accepts.
    public static func payloadTooLarge(limit: Int) -> Problem {
        overLimit(413, "payload_too_large", "Payload too large", what: "The request body exceeds", limit: limit)
    }

    /// 408 `request_timeout`: the headers and body did not arrive within the request deadline.
    public static func requestTimeout(seconds: Int) -> Problem {
        Problem(status: 408, code: "request_timeout", title: "Request timeout",
                detail: "The request's headers and body did not arrive within \(seconds) s of its first byte.")
    }

    /// 503 `too_many_connections`: the connection is beyond the ordinary limits (it serves only health).
    public static let tooManyConnections = Problem(
        status: 503, code: "too_many_connections", title: "Too many connections",
        detail: "This address (or the server) has as many connections open as it may; retry after Retry-After seconds.")

    /// 503 `too_many_streams`: as many streamed responses are open as the server allows.
    public static let tooManyStreams = Problem(
        status: 503, code: "too_many_streams", title: "Too many streams",
        detail: "The server has as many streams open as it may; retry after Retry-After seconds.")

    /// 403 `cors_origin_refused`: a CORS preflight from an origin the server does not allow.
    public static func corsOriginRefused(origin: String) -> Problem {
        Problem(status: 403, code: "cors_origin_refused", title: "CORS origin refused",
                detail: "Cross-origin requests from \(origin) are not allowed here.")
    }

    /// 414 `uri_too_long`: the request target is longer than the server reads.
    public static func uriTooLong(limit: Int) -> Problem {
        overLimit(414, "uri_too_long", "URI too long", what: "The request target exceeds", limit: limit)
    }

    /// 431 `header_fields_too_large`: the header section is larger than the server reads.
    public static func headerFieldsTooLarge(limit: Int) -> Problem {
        overLimit(431, "header_fields_too_large", "Header fields too large", what: "The request's header fields exceed", limit: limit)
    }

    /// A part of the request over its size limit, which `limitBytes` names; `what` says which and its verb.
    private static func overLimit(_ status: Int, _ code: String, _ title: String, what: String, limit: Int) -> Problem {
        Problem(status: status, code: code, title: title,
                detail: "\(what) the limit of \(limit) bytes.",
                extensions: [(name: "limitBytes", value: .int(limit))])
    }

    /// 400 `invalid_host`: an HTTP/1.1 request without exactly one `Host` header.
    public static let invalidHost = Problem(
        status: 400, code: "invalid_host", title: "Invalid Host header",
        detail: "An HTTP/1.1 request must carry exactly one Host header (RFC 9112, section 3.2).")

    /// 400 `malformed_framing`: the body's length is ambiguous.
    public static let malformedFraming = Problem(
        status: 400, code: "malformed_framing", title: "Malformed message framing",
        detail: "The request has both Transfer-Encoding and Content-Length, several Content-Length headers, or a Transfer-Encoding whose last coding is not chunked.")

    /// 501 `unsupported_transfer_encoding`: a transfer coding other than `chunked`.
    public static let unsupportedTransferEncoding = Problem(
        status: 501, code: "unsupported_transfer_encoding", title: "Unsupported transfer encoding",
        detail: "The only transfer coding accepted is chunked, alone; send the body with Content-Length or chunked.")

    /// 503 `shutting_down`: the server stopped before the handler answered.
    public static let shuttingDown = Problem(
        status: 503, code: "shutting_down", title: "Shutting down",
        detail: "The server is shutting down and did not finish this request; retry elsewhere or later.")
}

/// The codes the HTTP layer answers with itself, for contract tests against the API document.
public enum StandardProblems {
    /// Every code with its status.
    public static let catalog: [(code: String, status: Int)] = [
        ("route_not_found", 404), ("method_not_allowed", 405), ("malformed_path", 400),
        ("malformed_query", 400), ("payload_too_large", 413), ("shutting_down", 503),
        ("request_timeout", 408), ("too_many_connections", 503), ("uri_too_long", 414),
        ("header_fields_too_large", 431), ("invalid_host", 400), ("malformed_framing", 400),
        ("unsupported_transfer_encoding", 501), ("too_many_streams", 503), ("cors_origin_refused", 403),
    ]
}
