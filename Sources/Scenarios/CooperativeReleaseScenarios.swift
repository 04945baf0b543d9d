import Foundation

/// `cooperative-release-close` and `cooperative-release-ignore`: releasing a lease whose device a process
/// holds. vfiod lists the openers and the device requests the kernel relayed; an opener that closes on request
/// lets the release finish; one that ignores it is signalled after `releaseTimeoutSeconds` per `escalation`.
enum CooperativeReleaseScenarios {
    /// `cooperative-release-close`: the opener closes at the first request.
    static func close(_ context: ScenarioContext) throws {
        let (api, lease, address, opener) = try leaseHeld(context, onRequest: "close",
                                                          policy: ["releaseTimeoutSeconds": 60, "escalation": "kill"])
        let operation = try api.releaseOperation(lease.id)
        try checkOpenerSeen(operation, opener)
        try check(operation["escalation"] == nil || operation["escalation"] is NSNull,
                  "the release escalated although the opener closed: \(operation["escalation"] ?? "")")
        try check(opener.waitForLine(startingWith: "exit reason=request") != nil,
                  "vfio-opener did not close on the request: \(opener.transcript)")
        try finish(context, api, lease, address, operation)
    }

    /// `cooperative-release-ignore`: the opener ignores requests; after 2 s vfiod sends SIGTERM.
    static func ignore(_ context: ScenarioContext) throws {
        let (api, lease, address, opener) = try leaseHeld(context, onRequest: "ignore",
                                                          policy: ["releaseTimeoutSeconds": 2, "escalation": "terminate"])
        let operation = try api.releaseOperation(lease.id)
        try checkOpenerSeen(operation, opener)
        guard let escalation = operation["escalation"] as? JSONObject else {
            throw ScenarioFailure("the release did not escalate against the ignoring opener: escalation \(operation["escalation"] ?? "absent")")
        }
        let pids = escalation["pids"] as? [Int] ?? []
        try check(escalation.string("policy") == "terminate" && pids.contains(Int(opener.pid)),
                  "escalation \(escalation), expected policy terminate against pid \(opener.pid)")
        try check(opener.waitForLine(startingWith: "exit reason=signal sig=TERM") != nil,
                  "vfio-opener did not end by SIGTERM: \(opener.transcript)")
        try finish(context, api, lease, address, operation)
    }

    /// Leases the lone edu with `policy` and starts an opener on it.
    private static func leaseHeld(_ context: ScenarioContext, onRequest: String, policy: JSONObject)
        throws -> (APIClient, ActiveLease, String, OpenerChild) {
        let extra = OpenerSteps.hostArguments(context)
        let api = try context.startVFIOD()
        let address = try LabInventory(api).alone(LabDevices.edu).string("address")
        let lease = try api.lease(["device": address], extra: policy)
        let opener = try context.startOpener(["--group", "\(lease.group)", "--device", address, "--on-request", onRequest] + extra)
        try OpenerSteps.expectReady(opener, "/dev/vfio/\(lease.group)")
        return (api, lease, address, opener)
    }

    /// The release lists the opener's pid and at least one relayed device request.
    private static func checkOpenerSeen(_ operation: JSONObject, _ opener: OpenerChild) throws {
        guard let openers = operation["openers"] as? [JSONObject] else {
            throw ScenarioFailure("the release operation has no openers array; it ended \(operation.string("state"))")
        }
        try check(openers.contains { $0.int("pid") == Int(opener.pid) },
                  "the release's openers \(openers.map { $0.int("pid") ?? -1 }) lack vfio-opener's pid \(opener.pid)")
        let relayed = operation["requestsRelayed"] as? [JSONObject] ?? []
        try check(!relayed.isEmpty, "the release relayed no device request (requestsRelayed empty)")
    }

    /// The release succeeded, the opener exited 0 and the edu is back on no driver.
    private static func finish(_ context: ScenarioContext, _ api: APIClient, _ lease: ActiveLease, _ address: String,
                               _ operation: JSONObject) throws {
        try check(operation.string("state") == "succeeded" && operation["stuck"] as? Bool != true,
                  "the release ended \(operation.string("state")) (stuck \(operation["stuck"] ?? "-")): \(operation.optionalString("error") ?? "")")
        let assignment = try api.get("/v1/assignments/\(lease.id)").json
        try check(assignment.string("state") == "released", "assignment \(lease.id) is \(assignment.string("state"))")
        try api.expectDevice(address, driver: nil, state: "available", "after the release")
        try LeaseScenarios.expectTree(context, address, driver: nil, override: nil, "after the release")
    }
}
