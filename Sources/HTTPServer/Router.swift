/// A request handler: takes a request, answers a response. Errors are answered as responses too.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// A handler that answers at once on the server's own thread (cached reads), or nil to leave the
/// request to the `HTTPHandler`. It must never block: no I/O that can wait, no lock held for long.
public typealias ImmediateHandler = @Sendable (HTTPRequest) -> HTTPResponse?

/// Dispatches requests by method and path pattern (`/v1/devices/{address}`).
///
/// - Unknown path: 404 `route_not_found`. Known path, other method: 405 `method_not_allowed` with `Allow`.
/// - `HEAD` runs the `GET` handler (libmicrohttpd drops the body and keeps the full `Content-Length`).
/// - `OPTIONS` answers 204 with `Allow`.
/// - A malformed path answers 400 `malformed_path` (the server checks this before routing, too).
/// - Literal segments win over `{parameters}`: `/v1/audit/verify` beats `/v1/audit/{id}`.
///
/// Build it once, then hand `handle` to the server; it is a value and never changes while serving.
/// Matching looks only at the patterns with as many segments as the path, compares without allocating,
/// and builds the parameters of the winner alone.
public struct Router: Sendable {
    private struct Route: Sendable {
        let method: String
        let handler: HTTPHandler
        let immediate: ImmediateHandler?
    }

    /// One distinct pattern and the routes (one per method) that share it, in the order they were added.
    private struct Entry: Sendable {
        let pattern: RoutePattern
        var routes: [Route]
    }

    private var entries: [Entry] = []
    /// Every route as added, in order.
    private var added: [(method: String, pattern: String)] = []
    /// Indices into `entries` by the pattern's segment count.
    private var bySegmentCount: [[Int]] = []

    /// An empty router.
    public init() {}

    /// Adds a route. `method` is upper-cased; `pattern` segments are literals or `{name}`.
    /// A duplicate method and pattern is a programming error. `immediate`, when given, may answer the
    /// route at once on the server's thread (see `handleImmediately`); nil from it falls back to `handler`.
    public mutating func add(_ method: String, _ pattern: String, immediate: ImmediateHandler? = nil,
                             _ handler: @escaping HTTPHandler) {
        let method = method.uppercased()
        let parsed = RoutePattern(pattern)
        let route = Route(method: method, handler: handler, immediate: immediate)
        defer { added.append((method: method, pattern: parsed.text)) }
        if let index = entries.firstIndex(where: { $0.pattern.text == parsed.text }) {
            precondition(!entries[index].routes.contains { $0.method == method }, "duplicate route \(method) \(pattern)")
            entries[index].routes.append(route)
            return
        }
        let count = parsed.segments.count
        while bySegmentCount.count <= count { bySegmentCount.append([]) }
        bySegmentCount[count].append(entries.count)
        entries.append(Entry(pattern: parsed, routes: [route]))
    }

    /// The routes in the order they were added (a contract test compares them with the OpenAPI document).
    public var routes: [(method: String, pattern: String)] { added }

    /// Answers one request at once when its route has an immediate handler that can: the response
    /// and the route's pattern. Nil when the request must go to `handle` (no such route or handler,
    /// or the handler declined).
    public func handleImmediately(_ request: HTTPRequest) -> (pattern: String, response: HTTPResponse)? {
        guard request.method == "GET" || request.method == "HEAD",
              let segments = request.decodedPathSegments,
              let best = bestMatch(segments),
              let route = entries[best].routes.first(where: { $0.method == "GET" }),
              let immediate = route.immediate else { return nil }
        var routed = request
        routed.pathParameters = entries[best].pattern.parameters(segments)
        return immediate(routed).map { (entries[best].pattern.text, $0) }
    }

    /// The index in `entries` of the best-matching pattern for decoded path segments.
    private func bestMatch(_ segments: [String]) -> Int? {
        guard segments.count < bySegmentCount.count else { return nil }
        var best: Int?
        for index in bySegmentCount[segments.count] where entries[index].pattern.matches(segments) {
            if let current = best, !entries[index].pattern.isMoreSpecific(than: entries[current].pattern) { continue }
            best = index
        }
        return best
    }

    /// Answers one request.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let segments = request.decodedPathSegments else {
            return .problem(.malformedPath)
        }
        // The best-matching pattern, then every route sharing it.
        guard let best = bestMatch(segments) else { return .problem(.routeNotFound(path: request.path)) }
        let candidates = entries[best].routes
        let lookup = request.method == "HEAD" ? "GET" : request.method
        if let route = candidates.first(where: { $0.method == lookup }) {
            var routed = request
            routed.pathParameters = entries[best].pattern.parameters(segments)
            return await route.handler(routed)
        }
        let allowed = Router.allowHeader(candidates.map(\.method))
        if request.method == "OPTIONS" {
            return HTTPResponse(status: 204, headers: [("Allow", allowed.joined(separator: ", "))])
        }
        return .problem(.methodNotAllowed(method: request.method, allowed: allowed),
                        headers: [("Allow", allowed.joined(separator: ", "))])
    }

    /// The methods for `Allow`: the routes' methods, `HEAD` when `GET` is there, and `OPTIONS`.
    private static func allowHeader(_ methods: [String]) -> [String] {
        var result = methods
        if result.contains("GET") && !result.contains("HEAD") { result.append("HEAD") }
        if !result.contains("OPTIONS") { result.append("OPTIONS") }
        return result
    }
}
