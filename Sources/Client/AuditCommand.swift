/// `vfiod audit`: the hash-chained history, its check, and its export.
enum AuditCommand {
    static let command = ClientCommand(
        name: "audit",
        synopsis: "audit [--device D ...] [--group N] [--assignment ID] [--holder H] [--tenant T] [--action A] [--since TIME] [--until TIME] [--verify] [--export jsonl|csv]",
        summary: "The audit history (auditor, admin), its hash-chain check, or an export.",
        details: """
        Without --verify or --export: the rows matching the filters as a table (GET /v1/audit, all pages;
        --device may be repeated). --verify checks the whole chain (GET /v1/audit/verify) and exits 1 when
        it is broken, naming the first broken row. --export prints GET /v1/audit/export as it comes
        (JSON Lines or CSV) with the same filters.
        """,
        options: ["--device", "--group", "--assignment", "--holder", "--tenant", "--action", "--since", "--until", "--verify", "--export"],
        run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let devices = try arguments.values("--device")
        let filters: [(String, String?)] = [
            ("group", try arguments.value("--group")), ("assignment", try arguments.value("--assignment")),
            ("holder", try arguments.value("--holder")), ("tenant", try arguments.value("--tenant")),
            ("action", try arguments.value("--action")), ("since", try arguments.value("--since")),
            ("until", try arguments.value("--until")),
        ]
        let verify = arguments.flag("--verify")
        let export = try arguments.value("--export")
        _ = try arguments.positionals(max: 0, command: "audit")
        if verify {
            guard export == nil, devices.isEmpty, filters.allSatisfy({ $0.1 == nil }) else {
                throw .usage("audit --verify checks the whole chain: it takes no filter and no --export")
            }
            return try runVerify(session)
        }
        if let export {
            guard devices.count <= 1 else { throw .usage("audit --export takes one --device at most") }
            let reply = try session.api.send("GET", "/v1/audit/export" + APIConnection.query([("format", export), ("device", devices.first)] + filters),
                                             timeoutSeconds: 600)
            session.terminal.raw(reply.text)
            return 0
        }
        var bodies: [[UInt8]] = []
        var rows: [Int: JSONObject] = [:]
        for device in devices.isEmpty ? [nil] : devices.map(Optional.some) {
            let (body, items) = try session.api.list("/v1/audit" + APIConnection.query([("device", device)] + filters))
            bodies.append(body)
            for item in items { rows[item.int("seq") ?? 0] = item }
        }
        let ordered = rows.keys.sorted().compactMap { rows[$0] }
        if session.json {
            if bodies.count == 1 { session.terminal.bytes(bodies[0]) } else {
                session.terminal.line("{\"items\":[" + ordered.map { JSONObject.compact($0.fields) }.joined(separator: ",") + "],\"nextPageToken\":null}")
            }
            return 0
        }
        var table = Table("SEQ", "TIME", "ACTOR", "ACTION", "DEVICE", "GROUP", "ASSIGNMENT", "ERROR")
        for row in ordered {
            table.add([row.text("seq"), row.text("time"), row.text("actor"), row.text("action"), row.text("device"),
                       row.text("group"), row.text("assignment"), row.text("error")])
        }
        session.terminal.line(ordered.isEmpty ? "no audit rows" : table.render(session.terminal))
        return 0
    }

    private static func runVerify(_ session: Session) throws(ClientError) -> Int32 {
        let (reply, result) = try session.api.get("/v1/audit/verify", timeoutSeconds: 600)
        let ok = result.bool("ok") == true
        if session.json {
            session.printBody(reply)
        } else if ok {
            session.terminal.line("audit chain \(session.terminal.state("ok")): \(result.text("count")) rows, head \(result.text("headHash"))")
        }
        guard ok else {
            throw .failed("audit chain broken at seq \(result.text("firstBrokenSeq")): \(result.text("reason"))")
        }
        return 0
    }
}
