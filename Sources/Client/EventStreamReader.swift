import Foundation

/// Follows `GET /v1/events`: hands each event to a handler, and when the connection breaks or the server
/// ends the stream (`overflow`, `shutdown`) connects again with `Last-Event-ID` set to the last cursor,
/// after the delay the stream's `retry:` asked for, so no event is missed and none is seen twice.
struct EventStreamReader {
    /// What the handler wants next.
    enum Next { case keepGoing, stop }

    let api: APIConnection
    /// The query filters (`types`, `device`, `group`, `assignment`).
    var filters: [(String, String?)] = []
    /// Consecutive failed connections before giving up (exit 4).
    var attempts = 30

    /// The last cursor seen: where a reconnection resumes.
    private(set) var cursor: String?

    init(api: APIConnection, filters: [(String, String?)], since: String?) {
        self.api = api
        self.filters = filters
        cursor = since
    }

    /// Reads events until `handle` says stop (or `tick`, called about once a second, does). A first
    /// connection that fails throws at once; later ones are retried. The route missing (an older server)
    /// throws `.refused` with status 404.
    mutating func follow(handle: @escaping (ServerEvent) -> Next, tick: @escaping () -> Next = { .keepGoing },
                         reconnecting: (String) -> Void = { _ in }) throws(ClientError) {
        var failures = 0
        var connectedOnce = false
        var delay = 2.0
        while true {
            var parser = ServerSentEventParser()
            var stop = false
            var lastCursor = cursor
            let call = HTTPCall(method: "GET", url: api.url("/v1/events" + APIConnection.query(filters)),
                                headers: api.authorization + ["Accept: text/event-stream"]
                                    + (cursor.map { ["Last-Event-ID: \($0)"] } ?? []),
                                timeoutSeconds: nil)
            let outcome: Result<HTTPReply, ClientError>
            do throws(ClientError) {
                outcome = .success(try api.transport.perform(call, reader: { bytes in
                    for event in parser.feed(bytes) {
                        if let id = event.id, !id.isEmpty { lastCursor = id }
                        if handle(event) == .stop { stop = true; return false }
                    }
                    return true
                }, tick: { if tick() == .stop { stop = true; return false }; return true }))
            } catch {
                outcome = .failure(error)
            }
            cursor = lastCursor
            if let milliseconds = parser.retryMilliseconds { delay = Double(milliseconds) / 1000 }
            if stop { return }
            switch outcome {
            case .success(let reply):
                try APIConnection.check(reply)
                connectedOnce = true
                failures = 0
                reconnecting("the server ended the stream; resuming" + (cursor.map { " after \($0)" } ?? ""))
            case .failure(let error):
                guard connectedOnce, case .unreachable = error else { throw error }
                failures += 1
                if failures >= attempts { throw error }
                reconnecting("\(error.message); reconnecting" + (cursor.map { " after \($0)" } ?? ""))
            }
            Thread.sleep(forTimeInterval: delay)
        }
    }
}
