/// `vfiod groups [ID]`: IOMMU groups with their members, viability and whether they can be lent.
enum GroupCommand {
    static let command = ClientCommand(
        name: "groups", synopsis: "groups [ID] [--assignable] [--viable]",
        summary: "IOMMU groups: members, viable and its blockers, assignable and why not.",
        details: """
        Without ID: every group (GET /v1/groups, all pages); --assignable or --viable keep those that are.
        With ID: that group, each blocker (member, driver, why) on a line of its own.
        """,
        options: ["--assignable", "--viable"], run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let query = APIConnection.query([("assignable", arguments.flag("--assignable") ? "true" : nil),
                                         ("viable", arguments.flag("--viable") ? "true" : nil)])
        if let id = try arguments.positionals(max: 1, command: "groups").first {
            guard query.isEmpty else { throw .usage("groups: filters apply to the list, not to one group") }
            return try detail(id, session)
        }
        let (body, groups) = try session.api.list("/v1/groups" + query)
        if session.json {
            session.terminal.bytes(body)
            return 0
        }
        let terminal = session.terminal
        var table = Table("GROUP", "DEVICES", "VIABLE", "ASSIGNABLE", "WHY NOT")
        for group in groups {
            table.add([group.text("id"), group.strings("devices").joined(separator: ","), terminal.state(group.text("viable")),
                       terminal.state(group.text("assignable")), group.text("assignableReason")])
        }
        terminal.line(groups.isEmpty ? "no groups" : table.render(terminal))
        return 0
    }

    private static func detail(_ id: String, _ session: Session) throws(ClientError) -> Int32 {
        let (reply, group) = try session.api.get("/v1/groups/" + APIConnection.escape(id))
        if session.json {
            session.printBody(reply)
            return 0
        }
        let terminal = session.terminal
        var details = Details()
        details.add("group", group.text("id"))
        details.add("devices", group.strings("devices").joined(separator: ", "))
        details.add("viable", terminal.state(group.text("viable")))
        details.add("assignable", terminal.state(group.text("assignable")) + (group.string("assignableReason").map { ": \($0)" } ?? ""))
        details.add("/dev/vfio node", group.text("vfioGroupPresent"))
        terminal.line(details.render())
        let blockers = group.objects("blockers")
        if !blockers.isEmpty {
            var table = Table("BLOCKER", "DRIVER", "WHY")
            for blocker in blockers { table.add([blocker.text("device"), blocker.text("driver"), blocker.text("reason")]) }
            terminal.line()
            terminal.line(table.render(terminal))
        }
        return 0
    }
}
