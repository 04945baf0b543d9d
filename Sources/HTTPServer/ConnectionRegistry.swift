internal import Synchronization

/// Every open connection, its admission and its request deadline.
///
/// Admission: a connection beyond the ordinary limits (`connectionsPerIP` from its address,
/// `connectionLimit` in total) is not closed silently, as libmicrohttpd's own limits do: it is
/// admitted as a *reserve* connection, which answers `/healthz` and `/readyz` as usual and anything
/// else with 503 `too_many_connections` and `Retry-After`, then closes. libmicrohttpd's own limits are
/// set `reserveConnections` higher, so only past the reserve is a connection closed unanswered; a
/// reserve connection that sends nothing is closed after `reserveIdleSeconds`.
///
/// Deadline: a request's headers and body must arrive within `requestDeadline` of its first byte,
/// whatever the pace (libmicrohttpd's own timeout counts only idle time). `sweep` runs a few times a
/// second and answers a late request with 408 `request_timeout` (or the 413 it had earned), then
/// shuts the socket down, so that a client trickling bytes cannot hold a connection. With no connection
/// open the sweeper sleeps until one is admitted: an idle server has no timer.
final class ConnectionRegistry: Sendable {
    private struct Counts {
        var ordinary = 0
        var ordinaryByAddress: [String: Int] = [:]
        var entries: [ObjectIdentifier: ConnectionEntry] = [:]
        /// Reserve connections, oldest first.
        var reserve: [ConnectionEntry] = []
        /// Connections whose response became a stream: out of the ordinary and reserve pools.
        var streams: Set<ObjectIdentifier> = []
        /// The sweeper, suspended while no connection is open; resumed by the next one.
        var idleSweeper: CheckedContinuation<Void, Never>?
        /// The sweeper was cancelled: it must not suspend again.
        var sweeperCancelled = false
    }

    let configuration: HTTPServerConfiguration
    private let counts = Mutex(Counts())
    /// The deadline in microseconds; 0: none.
    let deadline: Int64
    /// How long a late request's client may still send after its answer before the socket is shut.
    let grace: Int64 = 1_000_000

    init(configuration: HTTPServerConfiguration) {
        self.configuration = configuration
        let milliseconds = configuration.requestDeadline.components.seconds * 1000
            + configuration.requestDeadline.components.attoseconds / 1_000_000_000_000_000
        self.deadline = Int64(max(0, milliseconds)) * 1000
    }

    /// Open connections, reserve ones included.
    var count: Int { counts.withLock { $0.entries.count } }

    /// A connection was accepted: admits it as ordinary when under both limits, else as reserve. When
    /// the reserve is half full, the oldest reserve connection that has sent nothing is shut, so that a
    /// flood of idle connections cannot keep health checks out for long.
    func admit(fd: Int32, address: String, now: Int64) -> ConnectionEntry {
        var sweeper: CheckedContinuation<Void, Never>?
        let (entry, crowded) = counts.withLock { counts in
            let fromAddress = counts.ordinaryByAddress[address, default: 0]
            let perIP = configuration.connectionsPerIP
            let ordinary = (perIP <= 0 || fromAddress < perIP) && counts.ordinary < configuration.connectionLimit
            let entry = ConnectionEntry(fd: fd, address: address, isReserve: !ordinary, now: now)
            counts.entries[ObjectIdentifier(entry)] = entry
            sweeper = counts.idleSweeper
            counts.idleSweeper = nil
            if ordinary {
                counts.ordinary += 1
                counts.ordinaryByAddress[address] = fromAddress + 1
                return (entry, [ConnectionEntry]())
            }
            let crowded = counts.reserve.count >= max(1, configuration.reserveConnections / 2) ? counts.reserve : []
            counts.reserve.append(entry)
            return (entry, crowded)
        }
        sweeper?.resume()
        // Outside the registry's lock: no lock is ever taken inside an entry's lock but the entry's own.
        for candidate in crowded where candidate.shutDownIfIdle() { break }
        return entry
    }

    /// Streams open now (their connections until libmicrohttpd has closed them).
    var streamCount: Int { counts.withLock { $0.streams.count } }

    /// The connection's response is a stream: moves it out of its pool (ordinary or reserve) into the
    /// streams', unless `maxStreams` are open already (false). libmicrohttpd's own limits have room
    /// for `maxStreams` beyond the ordinary and reserve pools, so streams never starve other requests.
    func becomeStream(_ entry: ConnectionEntry) -> Bool {
        counts.withLock { counts in
            let id = ObjectIdentifier(entry)
            guard counts.entries[id] != nil, !counts.streams.contains(id),
                  counts.streams.count < configuration.maxStreams else { return false }
            counts.streams.insert(id)
            if entry.isReserve {
                counts.reserve.removeAll { $0 === entry }
            } else {
                removeOrdinary(entry, from: &counts)
            }
            return true
        }
    }

    /// libmicrohttpd is closing the connection: forget it before its socket goes.
    func closed(_ entry: ConnectionEntry) {
        entry.markClosed()
        counts.withLock { counts in
            counts.entries.removeValue(forKey: ObjectIdentifier(entry))
            if counts.streams.remove(ObjectIdentifier(entry)) != nil { return }
            guard !entry.isReserve else {
                counts.reserve.removeAll { $0 === entry }
                return
            }
            removeOrdinary(entry, from: &counts)
        }
    }

    private func removeOrdinary(_ entry: ConnectionEntry, from counts: inout Counts) {
        counts.ordinary -= 1
        let left = counts.ordinaryByAddress[entry.address, default: 1] - 1
        counts.ordinaryByAddress[entry.address] = left > 0 ? left : nil
    }

    /// Returns once a connection is open (at once if one is), or the calling task is cancelled.
    func untilConnectionsOpen() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = counts.withLock { counts -> Bool in
                    if !counts.entries.isEmpty || counts.sweeperCancelled { return true }
                    counts.idleSweeper = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiting = counts.withLock { counts in
                counts.sweeperCancelled = true
                defer { counts.idleSweeper = nil }
                return counts.idleSweeper
            }
            waiting?.resume()
        }
    }

    /// One pass over the connections: starts the clock of requests whose first bytes arrived, answers
    /// late ones, shuts down answered ones after the grace period and half-closed incomplete ones.
    func sweep(now: Int64, previousSweep: Int64) {
        let entries = counts.withLock { Array($0.entries.values) }
        for entry in entries {
            entry.phase.withLock { phase in
                step(&phase, fd: entry.fd, now: now, previousSweep: previousSweep)
            }
        }
    }

    /// One connection's step of `sweep`, under its phase lock (so `fd` is still libmicrohttpd's).
    private func step(_ phase: inout ConnectionEntry.Phase, fd: Int32, now: Int64, previousSweep: Int64) {
        switch phase {
        case .idle(let since):
            guard let peer = PeerSocket.state(fd) else { return }
            if peer.halfClosed {
                // The client will send nothing more; an idle or partial request can never complete.
                PeerSocket.shutDown(fd)
                phase = .shutDown
            } else if peer.receivedData(since: since, now: now), deadline > 0 {
                // Bytes of a request arrived since the last sweep that saw none: start its clock then.
                phase = .receiving(since: max(since, previousSweep), answer: .init())
            }
        case .receiving(let since, let answer):
            if let peer = PeerSocket.state(fd), peer.halfClosed, peer.unreadBytes == 0 {
                // Everything the client will ever send has been read, and the request is not complete.
                PeerSocket.shutDown(fd)
                phase = .shutDown
            } else if deadline > 0, now >= since + deadline {
                if configuration.tls == nil {
                    PeerSocket.answer(fd, lateAnswer(answer))
                } else {
                    // A plain-text answer inside a TLS stream would be garbage to the client: closed unanswered.
                    PeerSocket.shutDown(fd)
                }
                phase = .expired(at: now)
            }
        case .expired(let at):
            if now >= at + grace {
                PeerSocket.shutDown(fd)
                phase = .shutDown
            }
        case .busy, .shutDown, .closed:
            return
        }
    }

    /// The response a late request gets: its own problem if it had one, else 408.
    private func lateAnswer(_ answer: ConnectionEntry.LateAnswer) -> HTTPResponse {
        var problem = answer.problem ?? .requestTimeout(seconds: Int(deadline / 1_000_000))
        problem.instance = answer.path ?? "*"  // cut before its request line was complete
        problem.requestID = answer.requestID ?? RequestID.generate()
        return HTTPResponse.problem(problem)
    }
}

/// Runs `ConnectionRegistry.sweep` and `StreamRegistry.sweep` (heartbeats, dead stream clients) five
/// times a second while a connection is open (a stream is one), until cancelled; with none open it waits for
/// the next: one timer for every connection and stream. The sweeps' system calls (getsockopt, non-blocking
/// send, shutdown, libmicrohttpd's resume) never block, so it may run on the cooperative pool.
enum DeadlineSweeper {
    static func start(_ registry: ConnectionRegistry, streams: StreamRegistry) -> Task<Void, Never> {
        Task {
            var previous = monotonicMicroseconds()
            while !Task.isCancelled {
                if registry.count == 0 {
                    await registry.untilConnectionsOpen()
                    previous = monotonicMicroseconds()
                }
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
                let now = monotonicMicroseconds()
                registry.sweep(now: now, previousSweep: previous)
                streams.sweep(now: now)
                previous = now
            }
        }
    }
}
