/// How an `HTTPServer` listens and what it tolerates.
public struct HTTPServerConfiguration: Sendable {
    /// The listen address: an IPv4 or IPv6 literal (`127.0.0.1`, `::1`, `0.0.0.0`, `::`). No host names.
    public var host: String = "127.0.0.1"
    /// The TCP port; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: UInt16 = 0
    /// libmicrohttpd polling threads (each runs epoll over its share of the connections).
    public var threadPoolSize: Int = 2
    /// The largest request body accepted; larger bodies get 413 `payload_too_large`.
    public var maxBodyBytes: Int = 1 << 20
    /// An idle connection is closed after this many seconds (0: never).
    public var connectionTimeoutSeconds: Int = 30
    /// Concurrent connections allowed from one IP address (0: unlimited); more are reserve connections.
    public var connectionsPerIP: Int = 64
    /// Concurrent connections in total, suspended ones (handlers still running) included; more are
    /// reserve connections.
    public var connectionLimit: Int = 4096
    /// Connections admitted beyond `connectionsPerIP` (from one address) and beyond `connectionLimit`
    /// (in total). They answer `reservePaths` as usual and anything else with 503
    /// `too_many_connections` and `Retry-After`, then close; past them libmicrohttpd closes new
    /// connections without a word.
    public var reserveConnections: Int = 16
    /// The paths a reserve connection serves.
    public var reservePaths: Set<String> = ["/healthz", "/readyz"]
    /// A reserve connection that sends nothing is closed after this many seconds.
    public var reserveIdleSeconds: Int = 2
    /// A request's headers and body must arrive within this time of its first byte, or it is answered
    /// 408 `request_timeout` (413 if its body was already over the cap) and its connection closed.
    /// `.zero`: no deadline (only the idle timeout applies).
    public var requestDeadline: Duration = .seconds(10)
    /// Streamed responses (`HTTPResponse.Body.stream`) open at once; one more gets 503
    /// `too_many_streams` with `Retry-After`. A connection whose response became a stream leaves the
    /// ordinary pool (libmicrohttpd's limits have room for `maxStreams` more) and has no idle timeout.
    public var maxStreams: Int = 256
    /// A stream sent nothing for this many seconds gets its heartbeat bytes (0: no heartbeats).
    public var streamHeartbeatSeconds: Int = 15
    /// Origins (`https://ui.example:8443`, compared exactly) whose browsers may call the API: their
    /// requests get `Access-Control-Allow-Origin` and their preflights 204; a preflight from any other
    /// origin gets 403 `cors_origin_refused`. Empty: no CORS headers at all.
    public var corsAllowedOrigins: [String] = []
    /// Called once per finished request, on a libmicrohttpd thread: keep it quick and non-blocking.
    public var accessLog: (@Sendable (AccessLogEntry) -> Void)?
    /// libmicrohttpd's own error messages (a refused connection, a broken socket…); nil: dropped.
    public var errorLog: (@Sendable (String) -> Void)?
    /// Serve HTTPS only (nil: plain HTTP).
    public var tls: TLSConfiguration?

    /// The defaults, with any field overridable afterwards.
    public init(host: String = "127.0.0.1", port: UInt16 = 0) {
        self.host = host
        self.port = port
    }
}
