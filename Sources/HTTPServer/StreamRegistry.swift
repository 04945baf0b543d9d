internal import Synchronization

/// The streams open on the server's connections: what the sweeper visits for heartbeats and dead
/// clients, and what shutdown ends. (How many may be open is `ConnectionRegistry`'s count, which
/// follows the connections themselves.)
final class StreamRegistry: Sendable {
    private struct Open {
        let stream: ResponseStream
        let entry: ConnectionEntry?
    }

    private struct State {
        var open: [ObjectIdentifier: Open] = [:]
        /// Set by `endAll`: no stream opens any more.
        var closed = false
    }

    private let state = Mutex(State())
    /// Heartbeat interval in microseconds; 0: none.
    let heartbeatMicroseconds: Int64

    init(heartbeatSeconds: Int) {
        heartbeatMicroseconds = Int64(max(0, heartbeatSeconds)) * 1_000_000
    }

    /// Open streams now.
    var count: Int { state.withLock { $0.open.count } }

    /// Registers a stream about to be queued on the connection of `entry`; false once shutdown began.
    func open(_ stream: ResponseStream, entry: ConnectionEntry?) -> Bool {
        state.withLock { state in
            if state.closed { return false }
            state.open[ObjectIdentifier(stream)] = Open(stream: stream, entry: entry)
            return true
        }
    }

    /// The stream's request is complete.
    func remove(_ stream: ResponseStream) {
        _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(stream)) }
    }

    /// Shutdown: no stream opens any more, and every open one gets its farewell and finishes.
    func endAll() {
        let open = state.withLock { state in
            state.closed = true
            return Array(state.open.values)
        }
        for item in open { item.stream.serverEnding() }
    }

    /// One sweeper pass: heartbeats on streams sent nothing for the heartbeat interval, and resumes
    /// suspended streams whose client has closed (FIN or reset) so that libmicrohttpd closes them.
    func sweep(now: Int64) {
        let open = state.withLock { Array($0.open.values) }
        for item in open {
            if heartbeatMicroseconds > 0 {
                item.stream.heartbeatIfIdle(since: now - heartbeatMicroseconds, now: now)
            }
            guard let entry = item.entry, item.stream.isSuspended else { continue }
            let gone = entry.phase.withLock { phase -> Bool in
                // Under the phase lock the socket is still libmicrohttpd's (it marks the entry closed first).
                if case .closed = phase { return false }
                return PeerSocket.state(entry.fd)?.halfClosed ?? false
            }
            if gone { item.stream.abortIfSuspended() }
        }
    }
}
