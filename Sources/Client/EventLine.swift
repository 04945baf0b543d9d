/// One event as one line for people: its cursor, type, and the fields that matter for its type.
enum EventLine {
    /// The fields shown per type, in order; `key=value` for each one present.
    private static let fields: [String: [String]] = [
        "device.changed": ["address", "state", "driver", "assignmentId"],
        "group.changed": ["id", "viable", "assignable"],
        "assignment.changed": ["id", "action", "state", "generation", "expiresAt", "holder", "tenant"],
        "operation.changed": ["id", "kind", "action", "state", "assignmentId", "error"],
        "operation.step": ["operationId", "seq", "action", "device", "state", "durationMs", "error"],
        "audit.appended": ["seq", "action", "actor", "device", "group", "assignment"],
        "inventory.rescanned": ["generation", "full", "scanDurationMs"],
        "reset": ["reason", "cursor"],
        "overflow": ["cursor"],
        "shutdown": [],
    ]

    /// `CURSOR  TYPE  key=value …`.
    static func render(_ event: ServerEvent, _ terminal: Terminal) -> String {
        let object = try? JSONObject(parsing: Array(event.data.utf8))
        var parts: [String] = []
        if let object {
            let keys = fields[event.type] ?? object.fields.keys.sorted()
            for key in keys where object.fields[key] != nil {
                var value = object.text(key)
                if key == "holder", let holder = object.object("holder") { value = holder.text("id") }
                if key == "state" { value = terminal.state(value) }
                if key == "durationMs" { value = Durations.milliseconds(object.double(key)) }
                if value != "-" || key == "assignmentId" { parts.append("\(key)=\(value)") }
            }
        } else if !event.data.isEmpty {
            parts.append(event.data)
        }
        let type = ["reset", "overflow", "shutdown"].contains(event.type) ? terminal.paint(event.type, .yellow) : terminal.paint(event.type, .bold)
        return "\(event.id ?? "-")  \(type)  " + parts.joined(separator: " ")
    }
}
