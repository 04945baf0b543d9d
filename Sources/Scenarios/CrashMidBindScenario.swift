import Foundation

/// `crash-mid-bind`: vfiod is killed (`VFIOD_TEST_CRASH_AT=N`, SIGKILL at the N-th crash point: before the
/// bind's first kernel write, then after each) while binding the e1000e, for N = 1, 2, … until a bind finishes
/// without crashing. After each crash it is restarted on the same database and host, and the bind must have
/// been `rolled_back` (the e1000e back on e1000e with an empty `driver_override`), `completed_on_recovery` (on
/// vfio-pci under an active lease, then released) or — killed before its first write, so never begun — run
/// after the restart (`succeeded`).
enum CrashMidBindScenario {
    static func run(_ context: ScenarioContext) throws {
        let address = try LabInventory(try context.startVFIOD()).alone(LabDevices.e1000e).string("address")
        var resolutions: Set<String> = []
        var crashes = 0
        // Assignments of earlier rounds: a round whose POST got no answer finds its own by leaving these out.
        var earlier: Set<String> = []
        for point in 1...40 {
            let api = try context.startVFIOD(environment: ["VFIOD_TEST_CRASH_AT": "\(point)"])
            // The worker may reach the crash point before the 202 is written: then the POST has no answer.
            let created = try? api.requestLease(["device": address])
            if let created {
                try check(created.status == 202, created.describe("POST /v1/assignments (crash point \(point))"))
                if let finished = try? api.follow(created.raw.header("Operation-Location") ?? "") {
                    try check(finished.string("state") == "succeeded",
                              "crash point \(point) not reached, but the bind ended \(finished.string("state")): \(finished.optionalString("error") ?? "")")
                    // The crash counter runs on into the release: release under a vfiod started without it.
                    try context.startVFIOD().release(created.json.string("id"))
                    context.note("the bind has \(point - 1) crash points; \(crashes) crashes, resolved as \(resolutions.sorted())")
                    try check(crashes >= 1, "vfiod never crashed during the bind (is VFIOD_TEST_CRASH_AT honoured?)")
                    try check(resolutions.isSuperset(of: ["completed_on_recovery", "rolled_back"])
                              && resolutions.isSubset(of: ["completed_on_recovery", "rolled_back", "succeeded"]),
                              "crashes were resolved only as \(resolutions.sorted())")
                    return
                }
            }
            let exit = context.vfiod!.waitForExit()
            try check(exit.signaled && exit.status == SIGKILL, "crash point \(point): vfiod ended \(exit) instead of SIGKILL: \(context.vfiod!.log.suffix(400))")
            crashes += 1
            resolutions.insert(try recover(context, address: address, created: created, point: point, earlier: &earlier))
        }
        throw ScenarioFailure("the bind still crashed at point 40")
    }

    /// Restarts vfiod without the crash, checks the invariants and leaves the e1000e on e1000e; returns the
    /// operation's resolution.
    private static func recover(_ context: ScenarioContext, address: String, created: APIResponse?, point: Int,
                                earlier: inout Set<String>) throws -> String {
        let api = try context.startVFIOD()
        let id: String
        let state: String
        if let created, let location = created.raw.header("Operation-Location") {
            id = created.json.string("id")
            state = try api.get(location).json.string("state")
        } else {
            // No 202 reached us: the assignment (this round's: not one of an earlier round's) and the
            // resolution from the list and the audit.
            guard let found = try api.list("/v1/assignments?device=\(address)").first(where: { !earlier.contains($0.string("id")) }) else {
                throw ScenarioFailure("crash point \(point): no assignment of \(address) after the restart")
            }
            id = found.string("id")
            let actions = try api.list("/v1/audit?assignment=\(id)").map { $0.string("action") }
            state = actions.contains("operation.completed_on_recovery") ? "completed_on_recovery"
                : actions.contains("operation.rolled_back") ? "rolled_back"
                : actions.contains("operation.succeeded") ? "succeeded" : "unresolved (\(actions))"
        }
        earlier.insert(id)
        try check(["rolled_back", "completed_on_recovery"].contains(state) || (point == 1 && state == "succeeded"),
                  "crash point \(point): the bind is \(state) after the restart")
        let assignment = try api.get("/v1/assignments/\(id)").json
        let (driver, override) = (context.driver(of: address), context.driverOverride(of: address))
        if assignment.string("state") == "active" {
            try check(driver == "vfio-pci" && override == "vfio-pci",
                      "crash point \(point): active lease but \(address) is on \(driver ?? "no driver") with override \(override ?? "(null)")")
            try api.release(id)
        } else {
            try check(driver == "e1000e" && override == nil,
                      "crash point \(point): assignment \(assignment.string("state")) and \(address) on \(driver ?? "no driver") with override \(override ?? "(null)"), expected e1000e and (null)")
        }
        try api.expectDevice(address, driver: "e1000e", state: "available", "crash point \(point), after recovery")
        return state
    }
}
