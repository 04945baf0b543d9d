import Foundation

/// `vfiod lease`: lend a device's IOMMU group, or a group, to a holder.
enum LeaseCommand {
    static let command = ClientCommand(
        name: "lease",
        synopsis: "lease (DEVICE | --group N) --holder ID [--tenant T] --ttl 1h [--reset-on-release] [--wait] [--idempotency-key K] "
            + "[--callback URL] [--release-grace S] [--release-timeout S] [--escalation wait|terminate|kill]",
        summary: "Lend a device's whole IOMMU group (or group N) to a holder for a time.",
        details: """
        POST /v1/assignments. The lease starts as binding; --wait follows the bind live (each step with its
        duration) until the assignment is active, and exits 1 if the bind failed. --ttl takes s, m, h or d.
        --idempotency-key makes a retry of the same request safe. --callback, --release-grace,
        --release-timeout (seconds) and --escalation set how its release treats the holder (callbackUrl,
        releaseGraceSeconds, releaseTimeoutSeconds, escalation).
        """,
        options: ["--group", "--holder", "--tenant", "--ttl", "--reset-on-release", "--wait", "--idempotency-key",
                  "--callback", "--release-grace", "--release-timeout", "--escalation"], run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let group = try arguments.value("--group")
        let holder = try arguments.value("--holder")
        let tenant = try arguments.value("--tenant")
        let ttl = try arguments.value("--ttl")
        let key = try arguments.value("--idempotency-key")
        let resetOnRelease = arguments.flag("--reset-on-release")
        let wait = arguments.flag("--wait")
        let policy = try releasePolicy(&arguments)
        let device = try arguments.positionals(max: 1, command: "lease").first
        guard (device == nil) != (group == nil) else { throw .usage("lease: name a DEVICE or --group N (one of them)") }
        guard let holder else { throw .usage("lease: --holder ID is required") }
        guard let ttl else { throw .usage("lease: --ttl is required (such as 1h)") }
        var body: [String: Any] = ["holder": ["id": holder].merging(tenant.map { ["tenant": $0] } ?? [:]) { a, _ in a },
                                   "ttlSeconds": try Durations.seconds(ttl, option: "--ttl")]
        if let device { body["device"] = device }
        if let group {
            guard let number = Int(group), number >= 0 else { throw .usage("--group: expected a group number, got \"\(group)\"") }
            body["group"] = number
        }
        if resetOnRelease { body["resetOnRelease"] = true }
        body.merge(policy) { _, new in new }
        let reply = try session.api.send("POST", "/v1/assignments", json: body, headers: key.map { ["Idempotency-Key: \($0)"] } ?? [])
        let assignment = try JSONObject(parsing: reply.body)
        let path = "/v1/assignments/" + APIConnection.escape(assignment.text("id"))
        return try OperationOutcome.finish(reply, summary: AssignmentCommands.summary(assignment, session.terminal),
                                           wait: wait, finalPath: path, session)
    }

    /// The release options as body members: `callbackUrl`, `releaseGraceSeconds`, `releaseTimeoutSeconds`, `escalation`.
    private static func releasePolicy(_ arguments: inout Arguments) throws(ClientError) -> [String: Any] {
        var members: [String: Any] = [:]
        if let url = try arguments.value("--callback") { members["callbackUrl"] = url }
        for (option, key) in [("--release-grace", "releaseGraceSeconds"), ("--release-timeout", "releaseTimeoutSeconds")] {
            guard let text = try arguments.value(option) else { continue }
            guard let seconds = Int(text), seconds >= 0 else { throw .usage("\(option): expected whole seconds, got \"\(text)\"") }
            members[key] = seconds
        }
        if let escalation = try arguments.value("--escalation") { members["escalation"] = escalation }
        return members
    }
}
