import Workers
internal import CMicroHTTPD
internal import Glibc
internal import Synchronization

/// An HTTP/1.1 server on libmicrohttpd that hands every request to one async handler (usually
/// `Router.handle`). It knows nothing of what the handler does.
///
/// libmicrohttpd's threads read the request; the handler runs in a Swift task while the connection is
/// suspended; the response is queued when the task is done. Bodies larger than
/// `maxBodyBytes` get 413, malformed paths and queries 400, and every response carries `X-Request-Id`.
/// A request must arrive whole within `requestDeadline`, and connections past the limits are served
/// for health only (`ConnectionRegistry`); heads are checked by `RequestHead`.
///
/// Always call `shutdown(timeout:)`: a started server that is merely released keeps its threads.
public final class HTTPServer: Sendable {
    /// A daemon pointer that may cross threads: libmicrohttpd's daemon functions are thread-safe.
    private struct Daemon: @unchecked Sendable {
        let pointer: OpaquePointer
        let listenFD: Int32
        let core: Unmanaged<ServerCore>
    }

    private enum Lifecycle {
        case idle
        case running(Daemon, port: UInt16)
        case stopping(port: UInt16)
        case stopped
    }

    let core: ServerCore
    /// Connections libmicrohttpd has open now, as it counts them against its limits (a connection vfiod
    /// shut down counts until libmicrohttpd has closed it). For tests.
    var openConnectionCount: Int { core.connections.count }
    private let lifecycle = Mutex(Lifecycle.idle)
    /// The request-deadline sweeper, while started.
    private let sweeper = Mutex<Task<Void, Never>?>(nil)
    /// Fired once when shutdown begins, for long-lived responses.
    public let shutdownSignal: ShutdownSignal

    /// A server that will answer with `handler`; call `start()` to listen. `immediate`, when given, is
    /// asked first, on libmicrohttpd's thread: a response it returns is sent at once, without suspending
    /// the connection or starting a task; nil hands the request to `handler`. It must never block.
    public init(configuration: HTTPServerConfiguration, shutdownSignal: ShutdownSignal = ShutdownSignal(),
                immediate: ImmediateHandler? = nil, handler: @escaping HTTPHandler) {
        self.core = ServerCore(configuration: configuration, handler: handler, immediate: immediate)
        self.shutdownSignal = shutdownSignal
    }

    /// The configuration the server was made with.
    public var configuration: HTTPServerConfiguration { core.configuration }

    /// The port being listened on (the chosen one when configured with 0); 0 before `start()`.
    public var port: UInt16 {
        lifecycle.withLock { state in
            switch state {
            case .running(_, let port), .stopping(let port): return port
            case .idle, .stopped: return 0
            }
        }
    }

    /// Requests between their first byte of headers and their completion (open streams included).
    public var inFlight: Int { core.tracking.inFlight }

    /// Streamed responses open now.
    public var openStreams: Int { core.streams.count }

    /// Opens the socket and starts libmicrohttpd's threads. Throws `HTTPServerError`
    /// (e.g. `cannot listen on 127.0.0.1:8460: address already in use`). Call once.
    public func start() throws(HTTPServerError) {
        let configuration = core.configuration
        let fd = try ListenSocket.open(host: configuration.host, port: configuration.port)
        let tls: TLSListener?
        do { tls = try startTLS(listening: fd) } catch { close(fd); throw error }
        let retained = Unmanaged.passRetained(core)
        let cls = retained.toOpaque()
        let reserve = max(0, configuration.reserveConnections)
        let streamRoom = max(0, configuration.maxStreams)
        var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue
            | MHD_ALLOW_SUSPEND_RESUME.rawValue
        if configuration.errorLog != nil { flags |= MHD_USE_ERROR_LOG.rawValue }
        if tls != nil { flags |= MHD_USE_TLS.rawValue }
        var settings = vfiod_mhd_settings(
            flags: UInt32(flags), listen_fd: fd,
            thread_pool_size: UInt32(max(1, configuration.threadPoolSize)),
            // libmicrohttpd's own limits (a silent close) sit above ours by the reserve: see ConnectionRegistry.
            // Streams leave the ordinary pool, so libmicrohttpd has room for `maxStreams` of them as well.
            connection_limit: UInt32(max(1, configuration.connectionLimit) + reserve + streamRoom),
            per_ip_connection_limit: configuration.connectionsPerIP > 0
                ? UInt32(configuration.connectionsPerIP + reserve + streamRoom) : 0,
            connection_timeout_seconds: UInt32(max(0, configuration.connectionTimeoutSeconds)),
            access_handler: accessHandler, access_handler_cls: cls,
            request_completed: requestCompleted, request_completed_cls: cls,
            uri_log: uriLogged, uri_log_cls: cls,
            error_log: configuration.errorLog == nil ? nil : errorLogged, error_log_cls: cls,
            tls_certificate_callback: tls == nil ? nil : TLSListener.certificateCallback, tls_trust_pem: nil,
            notify_connection: connectionNotified, notify_connection_cls: cls,
            connection_memory_limit: RequestHead.connectionMemoryBytes)
        // libmicrohttpd reads the trust PEM only inside MHD_start_daemon.
        let started = tls?.trustPEM.map { pem in
            pem.withCString { settings.tls_trust_pem = $0; return vfiod_mhd_start(&settings) }
        } ?? vfiod_mhd_start(&settings)
        guard let daemon = started else {
            retained.release()
            tls?.unregister(fd)
            close(fd)
            throw HTTPServerError("cannot start libmicrohttpd on \(configuration.host):\(configuration.port)")
        }
        let port = vfiod_mhd_bound_port(daemon)
        let running = lifecycle.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running(Daemon(pointer: daemon, listenFD: fd, core: retained), port: port)
            return true
        }
        if !running {
            MHD_stop_daemon(daemon)  // closes `fd`, which it was given
            retained.release()
            throw HTTPServerError("cannot start: this server was already started")
        }
        sweeper.withLock { $0 = DeadlineSweeper.start(core.connections, streams: core.streams) }
    }

    /// Stops gracefully: stops accepting (new connections are refused), fires `shutdownSignal`, waits up
    /// to `timeout` for requests in flight, answers still-running handlers with 503 `shutting_down`,
    /// then stops libmicrohttpd and closes every connection. A second call (or one before `start()`)
    /// returns at once without waiting for the first.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        let taken: Daemon? = lifecycle.withLock { state in
            guard case .running(let daemon, let port) = state else { return nil }
            state = .stopping(port: port)
            return daemon
        }
        guard let daemon = taken else { return }
        core.draining.store(true, ordering: .relaxed)
        // Refuse new connections at once: put an unconnected socket in place of the listening one under
        // libmicrohttpd's fd number (dup2, then close-on-exec again). The listening socket's last reference goes, epoll forgets it by
        // itself, and the kernel refuses new connections (and resets queued ones); libmicrohttpd closes the
        // stand-in at MHD_stop_daemon. MHD_quiesce_daemon would stop accepting too, but in epoll mode it
        // races libmicrohttpd's own worker threads to remove the socket from their epoll sets, and the
        // loser aborts the process ("Failed to remove listen FD from epoll set", 0.9.75; seen in CI).
        ListenSocket.replaceWithStandIn(daemon.listenFD)
        shutdownSignal.fire()
        // Every stream gets its farewell and finishes; they count as requests in flight until sent, so
        // the wait below is also theirs (a client that does not read is cut off at MHD_stop_daemon).
        core.streams.endAll()

        if await !core.tracking.wait(until: .noRequestsInFlight, timeout: timeout) {
            core.refusing.store(true, ordering: .sequentiallyConsistent)
            for state in core.tracking.suspendedRequests {
                core.deliver(.problem(.shuttingDown), to: state)
            }
            // Let those 503s reach their clients before the daemon stops (bounded: a client that does
            // not read must not hold the shutdown).
            _ = await core.tracking.wait(until: .noRequestsInFlight, timeout: .seconds(2))
        }
        // MHD_stop_daemon aborts the process if a connection is still suspended: wait until every
        // resumed connection has been back through the access handler (that is prompt once resumed).
        _ = await core.tracking.wait(until: .noSuspendedConnections, timeout: .seconds(3600))
        let pointer = daemon
        // MHD_stop_daemon joins libmicrohttpd's threads: off the cooperative pool. Without a thread to run it
        // on, run it here rather than never.
        do {
            try await DedicatedThread.run(name: "http-stop") { MHD_stop_daemon(pointer.pointer) }
        } catch {
            MHD_stop_daemon(pointer.pointer)
        }
        // MHD_stop_daemon closed the listen fd (the stand-in) itself.
        core.tls.withLock { $0 }?.unregister(daemon.listenFD)
        sweeper.withLock { $0 }?.cancel()
        daemon.core.release()
        lifecycle.withLock { $0 = .stopped }
    }
}
