/// Cross-origin access for browsers on the origins in `corsAllowedOrigins` (compared exactly, ASCII
/// case-insensitively; no wildcards). With none configured the server sends no CORS headers at all and
/// `OPTIONS` goes to the handler as any other request.
///
/// A request whose `Origin` is allowed gets `Access-Control-Allow-Origin: <origin>`, `Vary: Origin` and
/// `Access-Control-Expose-Headers`, whatever its answer (problems included). A preflight (`OPTIONS`
/// with `Origin` and `Access-Control-Request-Method`) is answered by the server itself: 204 with the
/// methods, headers and max age for an allowed origin, 403 `cors_origin_refused` for any other. No
/// credentials mode: the API's bearer tokens travel in `Authorization`, not in cookies.
struct CORSPolicy: Sendable {
    /// Response headers a browser script may read.
    static let exposedHeaders = "ETag, X-Vfiod-Cursor, Retry-After, X-Request-Id, Location"
    /// Request headers a browser script may send.
    static let allowedHeaders = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID"
    /// Methods a browser script may use.
    static let allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE"
    /// How long a browser may cache a preflight's answer, in seconds.
    static let maxAgeSeconds = 600

    private let allowed: Set<String>

    init(allowedOrigins: [String]) {
        allowed = Set(allowedOrigins.map(asciiLowercased))
    }

    /// True when CORS is configured at all.
    var isEnabled: Bool { !allowed.isEmpty }

    /// True when `origin` may read responses.
    func allows(_ origin: String?) -> Bool {
        guard let origin else { return false }
        return allowed.contains(asciiLowercased(origin))
    }

    /// The headers every response to a request from `origin` carries (none unless it is allowed).
    func responseHeaders(origin: String?) -> [(String, String)] {
        guard let origin, allows(origin) else { return [] }
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Expose-Headers", Self.exposedHeaders)]
    }

    /// The server's own answer when the request is a preflight; nil for any other request (and for
    /// every request while CORS is off). `responseHeaders` are added to it like to any answer.
    func preflightAnswer(method: String, origin: String?, requestMethod: String?) -> HTTPResponse? {
        guard isEnabled, method == "OPTIONS", let origin, requestMethod != nil else { return nil }
        guard allows(origin) else { return .problem(.corsOriginRefused(origin: origin)) }
        return HTTPResponse(status: 204, headers: [
            ("Access-Control-Allow-Methods", Self.allowedMethods),
            ("Access-Control-Allow-Headers", Self.allowedHeaders),
            ("Access-Control-Max-Age", String(Self.maxAgeSeconds)),
        ])
    }
}

/// ASCII lower-casing without Foundation or locale.
func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
}
