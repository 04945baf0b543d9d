/// `vfiod reset DEVICE [--preview]` and `vfiod quarantine clear DEVICE`.
enum ResetCommands {
    static let reset = ClientCommand(
        name: "reset", synopsis: "reset DEVICE [--preview] [--method function|hot] [--wait]",
        summary: "Reset a leased device (admin), or with --preview show what a reset would touch and whether it could run.",
        details: """
        --preview: GET /v1/devices/DEVICE/reset-scope: the method, every device in scope with its owner,
        and the blockers. Otherwise POST /v1/devices/DEVICE/reset (refused, exit 3, when the scope is not
        vfiod's to reset); --wait follows the reset live and exits 1 if it failed.
        """,
        options: ["--preview", "--method", "--wait"], run: runReset)

    static let quarantine = ClientCommand(
        name: "quarantine", synopsis: "quarantine clear DEVICE [--wait]",
        summary: "Give a quarantined device back to the driver it had before its lease and lift the quarantine (admin).",
        details: "DELETE /v1/devices/DEVICE/quarantine; --wait follows the restore and exits 1 if it failed.",
        options: ["clear", "--wait"], run: runQuarantine)

    static func runReset(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let preview = arguments.flag("--preview")
        let method = try arguments.value("--method")
        let wait = arguments.flag("--wait")
        guard let device = try arguments.positionals(max: 1, command: "reset").first else { throw .usage("reset: name the DEVICE") }
        let path = "/v1/devices/\(APIConnection.escape(device))"
        if preview {
            let (reply, scope) = try session.api.get(path + "/reset-scope" + APIConnection.query([("method", method)]))
            if session.json { session.printBody(reply) } else { show(scope, session.terminal) }
            return 0
        }
        let reply = try session.api.send("POST", path + "/reset", json: method.map { ["method": $0] } ?? [:])
        let operation = try JSONObject(parsing: reply.body)
        return try OperationOutcome.finish(reply, summary: "resetting \(device): operation \(operation.text("id")) \(operation.text("state"))",
                                           wait: wait, finalPath: nil, session)
    }

    private static func show(_ scope: JSONObject, _ terminal: Terminal) {
        var details = Details()
        details.add("device", scope.text("device"))
        details.add("method", scope.text("method") + (scope.string("reason").map { " (\($0))" } ?? ""))
        details.add("can reset", terminal.state(scope.text("canReset")))
        terminal.line(details.render())
        var table = Table("ADDRESS", "GROUP", "DRIVER", "STATE", "OWNER", "ASSIGNMENT")
        for device in scope.objects("devices") {
            table.add([device.text("address"), device.text("iommuGroup"), device.text("driver"), terminal.state(device.text("state")),
                       device.text("owner"), device.text("assignmentId")])
        }
        terminal.line()
        terminal.line(table.render(terminal))
        for blocker in scope.objects("blockers") { terminal.line(terminal.paint("blocker", .red) + " \(blocker.text("address")): \(blocker.text("reason"))") }
    }

    static func runQuarantine(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let wait = arguments.flag("--wait")
        let words = try arguments.positionals(max: 2, command: "quarantine")
        guard words.count == 2, words[0] == "clear" else { throw .usage("usage: vfiod quarantine clear DEVICE") }
        let reply = try session.api.send("DELETE", "/v1/devices/\(APIConnection.escape(words[1]))/quarantine")
        if reply.status == 204 {
            if !session.json { session.terminal.line("quarantine of \(words[1]) lifted; its live lease keeps it on vfio-pci") }
            return 0
        }
        let operation = try JSONObject(parsing: reply.body)
        return try OperationOutcome.finish(reply, summary: "restoring \(words[1]): operation \(operation.text("id")) \(operation.text("state"))",
                                           wait: wait, finalPath: nil, session)
    }
}
