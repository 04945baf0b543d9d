import Foundation

/// `vfiod events`: follows the event stream, one line per event, resuming after a disconnect.
enum EventsCommand {
    static let command = ClientCommand(
        name: "events", synopsis: "events [--types T,...] [--since CURSOR] [--device D] [--group N] [--assignment ID] [--count N]",
        summary: "Follow the live event stream: one line per event, until Ctrl-C (or --count events).",
        details: """
        GET /v1/events (Server-Sent Events). --types keeps some types (device.changed, group.changed,
        assignment.changed, operation.changed, operation.step, audit.appended, inventory.rescanned);
        --since resumes after a cursor (each line starts with one). A dropped connection, or a stream the
        server ended (overflow, shutdown), is resumed from the last cursor: no event is missed. When the
        server cannot replay everything (it restarted, or the cursor is too old) a `reset` line says so:
        list again. -o json prints one JSON object per line: {"id", "event", "data"} with data as the server sent it.
        """,
        options: ["--types", "--since", "--device", "--group", "--assignment", "--count"], run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let filters: [(String, String?)] = [
            ("types", try arguments.value("--types")), ("device", try arguments.value("--device")),
            ("group", try arguments.value("--group")), ("assignment", try arguments.value("--assignment")),
        ]
        let since = try arguments.value("--since")
        let countText = try arguments.value("--count")
        _ = try arguments.positionals(max: 0, command: "events")
        var remaining: Int?
        if let countText {
            guard let count = Int(countText), count >= 1 else { throw .usage("--count: expected a number ≥ 1, got \"\(countText)\"") }
            remaining = count
        }
        var reader = EventStreamReader(api: session.api, filters: filters, since: since)
        let terminal = session.terminal
        let json = session.json
        try reader.follow(handle: { event in
            terminal.line(json ? jsonLine(event) : EventLine.render(event, terminal))
            if let left = remaining {
                remaining = left - 1
                if left - 1 == 0 { return .stop }
            }
            return .keepGoing
        }, reconnecting: { note in Terminal.error("vfiod: " + note) })
        return 0
    }

    /// `{"id": …, "event": …, "data": <the data line>}`: the data as the server sent it, byte for byte.
    static func jsonLine(_ event: ServerEvent) -> String {
        let id = event.id.map { "\"" + escape($0) + "\"" } ?? "null"
        let data = event.data.isEmpty ? "null" : event.data
        return "{\"id\":\(id),\"event\":\"\(escape(event.type))\",\"data\":\(data)}"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
