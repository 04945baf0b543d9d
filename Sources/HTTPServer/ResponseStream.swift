internal import Synchronization

/// What `ResponseStream.send` did with the bytes.
public enum StreamSendResult: Sendable {
    /// Queued; they go out as the socket takes them.
    case queued
    /// Not queued: they would pass the stream's capacity (the client reads too slowly, or not at all).
    case full
    /// Not queued: the stream has ended or is ending.
    case ended
}

/// Why a stream ended, as told to its `onEnd` handler.
public enum StreamEndReason: Sendable {
    /// `finish(with:)` was called and every byte was sent.
    case finished
    /// The client went away (closed, reset, or the socket failed).
    case clientGone
    /// The server shut down (the stream's `farewell` was its last bytes, if the client took them).
    case shutdown
    /// The server never opened it: `maxStreams` streams were open, or the server was shutting down.
    case refused
}

/// Bytes a handler sends over time on one response (chunked; no Content-Length). Thread-safe, never
/// blocks.
///
/// Return it as `HTTPResponse.Body.stream` (see `HTTPResponse.stream(_:status:headers:)`); bytes sent
/// before the response is queued wait in the stream. While nothing is queued, the connection is
/// suspended inside libmicrohttpd (no thread waits and nothing polls); `send` resumes it. The server
/// sends `heartbeat` on a stream that was sent nothing for `streamHeartbeatSeconds`, and `farewell`
/// as the last bytes when it shuts down.
public final class ResponseStream: Sendable {
    /// The most bytes queued and not yet taken by the socket.
    public let capacityBytes: Int
    /// Bytes sent when nothing else was sent for the server's `streamHeartbeatSeconds`; nil: none.
    public let heartbeat: [UInt8]?
    /// Bytes sent as the last ones when the server shuts down; nil: none.
    public let farewell: [UInt8]?

    let state: Mutex<StreamState>

    /// `capacityBytes`: the most bytes queued and not yet taken by the socket; `heartbeat`: bytes the
    /// server sends when nothing else was sent for the server's `streamHeartbeatSeconds` (e.g.
    /// ": heartbeat\n\n"); `farewell`: bytes sent as the last ones when the server shuts down (e.g.
    /// "event: shutdown\n...").
    public init(capacityBytes: Int, heartbeat: [UInt8]?, farewell: [UInt8]?) {
        self.capacityBytes = max(0, capacityBytes)
        self.heartbeat = heartbeat?.isEmpty == true ? nil : heartbeat
        self.farewell = farewell?.isEmpty == true ? nil : farewell
        self.state = Mutex(StreamState(now: monotonicMicroseconds()))
    }

    /// Queues bytes. `.queued`; `.full` (they would pass the capacity: nothing queued); `.ended`. The
    /// array is kept as it is, not copied: many streams may be sent the same one.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> StreamSendResult {
        state.withLock { state in
            if state.finishing || state.ended != nil { return .ended }
            if bytes.isEmpty { return .queued }
            if state.queuedBytes + bytes.count > capacityBytes { return .full }
            state.append(bytes, now: monotonicMicroseconds())
            state.wake()
            return .queued
        }
    }

    /// Queues `bytes` (past the capacity if need be) and ends the response once they are sent.
    /// Later calls, and calls after the stream ended, do nothing.
    public func finish(with bytes: [UInt8]?) {
        state.withLock { state in
            if state.finishing || state.ended != nil { return }
            if let bytes, !bytes.isEmpty { state.append(bytes, now: monotonicMicroseconds()) }
            state.finishing = true
            state.wake()
        }
    }

    /// Called exactly once when the stream ends for any reason, on any thread; must not block.
    /// Registered after the end, it runs at once on this thread; registering again replaces the
    /// handler that has not run yet.
    public func onEnd(_ handler: @escaping @Sendable (StreamEndReason) -> Void) {
        let endedAlready: StreamEndReason? = state.withLock { state in
            if let reason = state.ended { return reason }
            state.handler = handler
            return nil
        }
        if let endedAlready { handler(endedAlready) }
    }

    /// True once the stream has ended (its `onEnd` reason is decided).
    public var isEnded: Bool { state.withLock { $0.ended != nil } }

    /// Bytes queued and not yet taken by the socket (at most `capacityBytes`, plus what `finish` or the
    /// farewell added past it).
    public var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Ends the stream with `reason` (once): runs the handler outside the lock and drops the queue.
    func end(_ reason: StreamEndReason) {
        let handler: (@Sendable (StreamEndReason) -> Void)? = state.withLock { state in
            guard state.ended == nil else { return nil }
            state.ended = reason
            state.link = .gone
            state.dropQueue()
            defer { state.handler = nil }
            return state.handler
        }
        handler?(reason)
    }
}
