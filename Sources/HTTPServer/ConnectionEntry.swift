internal import Synchronization

/// One accepted connection, from libmicrohttpd's "started" notification to its "closed" one: what the
/// request deadline needs to know about it (see `ConnectionRegistry`).
///
/// The phase is shared between the connection's libmicrohttpd thread (which moves it along as the
/// request arrives) and the deadline sweeper (which answers and closes connections that took too
/// long); every change happens under the phase's lock, and so does every use of `fd` by the sweeper,
/// which is therefore never used after libmicrohttpd closed it (`markClosed` comes first).
final class ConnectionEntry: Sendable {
    /// Where the connection's current request stands.
    enum Phase: Sendable {
        /// No byte of a request yet (a new or kept-alive connection) since this monotonic time (µs).
        case idle(since: Int64)
        /// A request is arriving; it started at `since` (µs). `answer` is what it gets if it is late.
        case receiving(since: Int64, answer: LateAnswer)
        /// The request is in: its handler runs or its response is being sent.
        case busy
        /// Too late: the sweeper answered at `at` (µs) and closes the connection after a grace period.
        case expired(at: Int64)
        /// The sweeper shut the socket down; libmicrohttpd closes it when it notices.
        case shutDown
        /// libmicrohttpd closed the connection: `fd` must not be touched any more.
        case closed
    }

    /// The request id, path and problem a late request is answered with.
    struct LateAnswer: Sendable {
        var requestID: String?
        var path: String?
        /// A problem already found (a body over the limit); nil: 408 `request_timeout`.
        var problem: Problem?
    }

    /// The connection's socket (owned by libmicrohttpd).
    let fd: Int32
    /// The peer's IP address as text.
    let address: String
    /// Admitted beyond the ordinary limits: serves only the reserve paths and closes after one request.
    let isReserve: Bool
    let phase: Mutex<Phase>

    init(fd: Int32, address: String, isReserve: Bool, now: Int64) {
        self.fd = fd
        self.address = address
        self.isReserve = isReserve
        self.phase = Mutex(.idle(since: now))
    }

    /// The request line is in (URI callback): the request is arriving, since the sweeper first saw its
    /// bytes or now.
    func requestBegan(now: Int64) {
        phase.withLock { phase in
            if case .idle = phase { phase = .receiving(since: now, answer: LateAnswer()) }
        }
    }

    /// Records what a late answer should say (the headers are in, or a problem was found).
    func updateAnswer(_ change: (inout LateAnswer) -> Void) {
        phase.withLock { phase in
            guard case .receiving(let since, var answer) = phase else { return }
            change(&answer)
            phase = .receiving(since: since, answer: answer)
        }
    }

    /// The request is complete and about to be answered by the server. False when the sweeper has
    /// already answered it (the caller must then drop the connection instead).
    func finishReceiving() -> Bool {
        phase.withLock { phase in
            switch phase {
            case .idle, .receiving, .busy:
                phase = .busy
                return true
            case .expired, .shutDown, .closed:
                return false
            }
        }
    }

    /// For a request the sweeper answered: nil while it has not; otherwise true to keep reading (and
    /// discarding) what the client still sends for `grace` after the answer, so that closing with
    /// unread bytes does not reset the connection before the answer arrives, false to close now.
    func lateVerdict(now: Int64, grace: Int64) -> Bool? {
        phase.withLock { phase in
            switch phase {
            case .expired(let at): return now < at + grace
            case .shutDown, .closed: return false
            case .idle, .receiving, .busy: return nil
            }
        }
    }

    /// The response is sent (or the request failed): the connection is idle again.
    func requestEnded(now: Int64) {
        phase.withLock { phase in
            if case .busy = phase { phase = .idle(since: now) }
            if case .receiving = phase { phase = .idle(since: now) }
        }
    }

    /// Shuts the socket down if no request has begun on it; true if it did.
    func shutDownIfIdle() -> Bool {
        phase.withLock { phase in
            guard case .idle = phase else { return false }
            PeerSocket.shutDown(fd)
            phase = .shutDown
            return true
        }
    }

    /// libmicrohttpd is about to close the socket.
    func markClosed() {
        phase.withLock { $0 = .closed }
    }
}
