internal import CMicroHTTPD

/// A handler answered with a stream.
extension ServerCore {
    /// Seconds a client refused a stream is told to wait (`Retry-After`).
    static let streamRetryAfterSeconds = 5

    /// Opens `stream` on the request's connection, which then leaves the ordinary pool and loses its
    /// idle timeout; nil when opened. Otherwise the stream ends `.refused` and the answer to send
    /// instead is returned: 503 `shutting_down` once shutdown began, 503 `too_many_streams` with
    /// `Retry-After` when `maxStreams` are open. A `HEAD` request opens nothing: its stream ends
    /// `.finished` at once (only the head is sent).
    func openStream(_ stream: ResponseStream, for state: RequestState) -> HTTPResponse? {
        if state.method == "HEAD" {
            stream.end(.finished)
            return nil
        }
        guard let entry = state.entry else {
            // Every connection gets its entry when accepted; without one nothing could account for it.
            stream.end(.refused)
            return .problem(.tooManyStreams, headers: [("Retry-After", String(Self.streamRetryAfterSeconds))])
        }
        guard streams.open(stream, entry: entry) else {
            stream.end(.refused)
            return .problem(.shuttingDown)
        }
        guard connections.becomeStream(entry) else {
            streams.remove(stream)
            stream.end(.refused)
            return .problem(.tooManyStreams, headers: [("Retry-After", String(Self.streamRetryAfterSeconds))])
        }
        state.stream = stream
        // The stream keeps the connection pointer until the completion callback marks it gone; it is
        // used from other threads only to resume a connection the stream itself suspended.
        stream.attach(state.connection)
        // Called from the access handler, on the connection's own thread, as the shim requires: a
        // stream stays open as long as it has a client (heartbeats keep proxies from timing it out).
        vfiod_mhd_set_connection_timeout(state.connection, 0)
        return nil
    }
}
