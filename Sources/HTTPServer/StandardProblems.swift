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
        Problem(status: 413, code: "payload_too_large", title: "Payload too large",
                detail: "The request body exceeds the limit of \(limit) bytes.",
                extensions: [(name: "limitBytes", value: .int(limit))])
    }

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
    ]
}
