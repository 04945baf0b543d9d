/// `vfiod operation ID [--follow]`: a bind, release, reset or restore, step by step.
enum OperationCommand {
    static let command = ClientCommand(
        name: "operation", synopsis: "operation ID [--follow]",
        summary: "An operation's state and steps; --follow shows them as they happen until it ends.",
        details: """
        GET /v1/operations/ID. --follow prints each step with its duration as it finishes, the processes
        found holding the devices, the device requests relayed, an escalation and the elapsed time, until
        the operation ends (exit 1 if it failed). Ctrl-C stops watching, not the operation.
        """,
        options: ["--follow"], run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let follow = arguments.flag("--follow")
        guard let id = try arguments.positionals(max: 1, command: "operation").first else { throw .usage("operation: name the operation ID") }
        let path = "/v1/operations/" + APIConnection.escape(id)
        if follow {
            let (reply, operation) = try OperationWatch(session: session, showProgress: !session.json).follow(path)
            if session.json { session.printBody(reply) }
            let state = operation.text("state")
            guard OperationWatch.succeeded(state) else {
                throw .failed("operation \(id) \(state)" + (operation.string("error").map { ": \($0)" } ?? ""))
            }
            return 0
        }
        let (reply, operation) = try session.api.get(path)
        if session.json {
            session.printBody(reply)
            return 0
        }
        let terminal = session.terminal
        var details = Details()
        details.add("operation", operation.text("id"))
        details.add("kind", operation.text("kind") + (operation.string("target").map { " of \($0)" } ?? ""))
        details.add("assignment", "\(operation.text("assignment")) (group \(operation.text("group")))")
        details.add("state", terminal.state(operation.text("state")) + (operation.string("error").map { ": \($0)" } ?? ""))
        if let paused = operation.string("pausedReason") { details.add("paused", paused) }
        details.add("created", "\(operation.text("createdAt")) by \(operation.text("actor")) (\(operation.text("reason")))")
        details.add("finished", operation.text("finishedAt"))
        terminal.line(details.render())
        let steps = operation.objects("steps")
        if !steps.isEmpty {
            var table = Table("STEP", "ACTION", "DEVICE", "EXPECTED", "STATE", "DURATION", "ERROR")
            for step in steps {
                table.add([step.text("seq"), step.text("action"), step.text("device"), step.text("expected"),
                           terminal.state(step.text("state")), Durations.milliseconds(step.double("durationMs")), step.text("error")])
            }
            terminal.line()
            terminal.line(table.render(terminal))
        }
        for opener in operation.objects("openers") {
            terminal.line("opener pid \(opener.text("pid")) (\(opener.text("commandLine"))): \(opener.strings("paths").joined(separator: ", ")), "
                          + "since \(opener.text("since"))" + (opener.string("goneAt").map { ", gone \($0)" } ?? ""))
        }
        if let count = operation.int("requestsRelayed" + "Count"), count > 0 { terminal.line("device requests relayed: \(count)") }
        if let escalation = operation.object("escalation") {
            terminal.line("escalation: \(escalation.text("policy")) \(escalation.text("signal")) at \(escalation.text("at"))")
        }
        return 0
    }
}
