/// `vfiod assignments`, `renew` and `release`: leases listed, shown, renewed and given back.
enum AssignmentCommands {
    static let list = ClientCommand(
        name: "assignments", synopsis: "assignments [ID] [--state S] [--holder H] [--tenant T] [--device D]",
        summary: "Leases as a table, or one in detail.",
        details: """
        Without ID: every assignment (GET /v1/assignments, all pages), filtered by state (binding, active,
        releasing, released, failed, …), holder, tenant or device. With ID: that assignment.
        """,
        options: ["--state", "--holder", "--tenant", "--device"], run: runList)

    static let renew = ClientCommand(
        name: "renew", synopsis: "renew ID --ttl 2h [--generation N]",
        summary: "Extend a lease: it now ends --ttl from now.",
        details: """
        POST /v1/assignments/ID/renew. With --generation N the renewal is refused (412, exit 3) unless the
        lease is still at generation N (its fencing token).
        """,
        options: ["--ttl", "--generation"], run: runRenew)

    static let release = ClientCommand(
        name: "release", synopsis: "release ID [--wait]",
        summary: "Give a lease back: the holder is told, openers are asked, and every device returns to its driver.",
        details: """
        DELETE /v1/assignments/ID. --wait follows the release live: each step with its duration, the
        processes found holding the devices, the device requests the kernel relayed to them, an escalation,
        until the assignment is released; it exits 1 if the release failed.
        """,
        options: ["--wait"], run: runRelease)

    /// One line about an assignment: id, group, holder, state, expiry, generation.
    static func summary(_ assignment: JSONObject, _ terminal: Terminal) -> String {
        let holder = assignment.object("holder")
        return "assignment \(assignment.text("id")) of group \(assignment.text("group")) for \(holder?.text("id") ?? "-")"
            + " (\(holder?.text("tenant") ?? "-")): \(terminal.state(assignment.text("state"))), expires \(assignment.text("expiresAt")),"
            + " generation \(assignment.text("generation"))"
            + (assignment.strings("devicePaths").isEmpty ? "" : "; " + assignment.strings("devicePaths").joined(separator: ", "))
    }

    static func runList(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let query = APIConnection.query([
            ("state", try arguments.value("--state")), ("holder", try arguments.value("--holder")),
            ("tenant", try arguments.value("--tenant")), ("device", try arguments.value("--device")),
        ])
        if let id = try arguments.positionals(max: 1, command: "assignments").first {
            guard query.isEmpty else { throw .usage("assignments: filters apply to the list, not to one assignment") }
            let (reply, assignment) = try session.api.get("/v1/assignments/" + APIConnection.escape(id))
            if session.json { session.printBody(reply) } else { session.terminal.line(detail(assignment, session.terminal)) }
            return 0
        }
        let (body, assignments) = try session.api.list("/v1/assignments" + query)
        if session.json {
            session.terminal.bytes(body)
            return 0
        }
        let terminal = session.terminal
        var table = Table("ID", "GROUP", "HOLDER", "TENANT", "STATE", "EXPIRES", "GEN")
        for assignment in assignments {
            let holder = assignment.object("holder")
            table.add([assignment.text("id"), assignment.text("group"), holder?.text("id") ?? "-", holder?.text("tenant") ?? "-",
                       terminal.state(assignment.text("state")), assignment.text("expiresAt"), assignment.text("generation")])
        }
        terminal.line(assignments.isEmpty ? "no assignments" : table.render(terminal))
        return 0
    }

    private static func detail(_ assignment: JSONObject, _ terminal: Terminal) -> String {
        var details = Details()
        details.add("assignment", assignment.text("id"))
        details.add("group", assignment.text("group"))
        details.add("holder", "\(assignment.object("holder")?.text("id") ?? "-") (tenant \(assignment.object("holder")?.text("tenant") ?? "-"))")
        details.add("state", terminal.state(assignment.text("state")))
        details.add("expires", "\(assignment.text("expiresAt")) (ttl \(assignment.text("ttlSeconds")) s)")
        details.add("generation", assignment.text("generation"))
        details.add("devices", assignment.objects("devices").map { "\($0.text("address")) (was \($0.text("originalDriver")))" }.joined(separator: ", "))
        details.add("device paths", assignment.strings("devicePaths").joined(separator: ", "))
        details.add("reset on release", assignment.text("resetOnRelease"))
        details.add("created", "\(assignment.text("createdAt")) by \(assignment.text("createdBy"))")
        if let failure = assignment.string("failure") { details.add("failure", failure) }
        if let reason = assignment.string("releaseReason") { details.add("release reason", reason) }
        return details.render()
    }

    static func runRenew(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        guard let ttl = try arguments.value("--ttl") else { throw .usage("renew: --ttl is required (such as 2h)") }
        let generation = try arguments.value("--generation")
        guard let id = try arguments.positionals(max: 1, command: "renew").first else { throw .usage("renew: name the assignment ID") }
        if let generation, Int(generation) == nil { throw .usage("--generation: expected a number, got \"\(generation)\"") }
        let reply = try session.api.send("POST", "/v1/assignments/\(APIConnection.escape(id))/renew",
                                         json: ["ttlSeconds": try Durations.seconds(ttl, option: "--ttl")],
                                         headers: generation.map { ["If-Match: \"g\($0)\""] } ?? [])
        if session.json { session.printBody(reply) } else {
            session.terminal.line("renewed " + summary(try JSONObject(parsing: reply.body), session.terminal))
        }
        return 0
    }

    static func runRelease(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let wait = arguments.flag("--wait")
        guard let id = try arguments.positionals(max: 1, command: "release").first else { throw .usage("release: name the assignment ID") }
        let path = "/v1/assignments/" + APIConnection.escape(id)
        let reply = try session.api.send("DELETE", path)
        let assignment = try JSONObject(parsing: reply.body)
        return try OperationOutcome.finish(reply, summary: summary(assignment, session.terminal), wait: wait, finalPath: path, session)
    }
}
