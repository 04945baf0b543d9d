import Foundation
import Synchronization

/// Follows an operation to its end, printing its progress live: from the event stream (each event about
/// its assignment, and a look about once a second for openers, which raise no event), or, from a server
/// without `GET /v1/events` or with no stream to spare, by long-polling `?wait=1`. Ctrl-C stops watching, never the operation.
struct OperationWatch {
    let session: Session
    /// Print progress lines (not for `-o json`, whose output is the final object alone).
    let showProgress: Bool

    /// States after which an operation changes no more.
    static func isFinal(_ state: String) -> Bool {
        ["succeeded", "failed", "completed_on_recovery", "rolled_back"].contains(state)
    }

    /// Whether a final state means the operation did what it was asked.
    static func succeeded(_ state: String) -> Bool { state == "succeeded" || state == "completed_on_recovery" }

    /// Follows the operation at `path` (`/v1/operations/op_…`) until it ends; returns its last copy.
    func follow(_ path: String) throws(ClientError) -> (reply: HTTPReply, operation: JSONObject) {
        let view = ProgressView(terminal: session.terminal)
        var (reply, operation) = try session.api.get(path)
        InterruptNotice.install(operation: operation.text("id"))
        if showProgress { view.show(operation) }
        if Self.isFinal(operation.text("state")) { return (reply, operation) }
        do throws(ClientError) {
            return try followStream(path, from: reply, assignment: operation.text("assignment"), view: view)
        } catch .refused(let status, _, _, _) where status == 404 || status == 503 {
            // A server without the event stream (404), or with every stream taken (503): poll, a second at most behind.
            while true {
                (reply, operation) = try session.api.get(path + "?wait=1")
                if showProgress { view.show(operation) }
                if Self.isFinal(operation.text("state")) { return (reply, operation) }
            }
        }
    }

    private func followStream(_ path: String, from first: HTTPReply, assignment: String,
                              view: ProgressView) throws(ClientError) -> (reply: HTTPReply, operation: JSONObject) {
        var reader = EventStreamReader(api: session.api, filters: [("assignment", assignment)],
                                       since: first.header("X-Vfiod-Cursor"))
        var latest = (reply: first, operation: try JSONObject(parsing: first.body))
        var failure: ClientError?
        var lastLook = Date()
        let refresh = { () -> EventStreamReader.Next in
            lastLook = Date()
            do throws(ClientError) {
                let (reply, operation) = try session.api.get(path)
                latest = (reply, operation)
            } catch {
                failure = error
                return .stop
            }
            if showProgress { view.show(latest.operation) }
            return Self.isFinal(latest.operation.text("state")) ? .stop : .keepGoing
        }
        // Every event about the assignment, and every tick, is a look at the operation: the first tick after
        // subscribing catches what changed between the GET above and the subscription.
        try reader.follow(handle: { _ in refresh() }, tick: {
            // libcurl calls this often while bytes flow: look at most once a second between events.
            Date().timeIntervalSince(lastLook) >= 1 ? refresh() : .keepGoing
        }, reconnecting: { note in
            if showProgress { view.note(note) }
        })
        if let failure { throw failure }
        return latest
    }
}

/// Ctrl-C while watching: say that the operation goes on and how to watch it again, then exit 130.
enum InterruptNotice {
    private static let installed = Mutex(false)

    /// Installs the notice for `operation` (once per process).
    static func install(operation: String) {
        guard installed.withLock({ done in defer { done = true }; return !done }) else { return }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "vfiod.interrupt"))
        source.setEventHandler {
            Terminal.error("\nvfiod: stopped watching; operation \(operation) goes on (vfiod operation \(operation) --follow)")
            exit(130)
        }
        // The source stays installed until the process exits: it is never cancelled, so never released.
        source.resume()
        _ = Unmanaged.passRetained(source as AnyObject)
    }
}
