import Foundation

/// `cooperative-release-close` and `cooperative-release-ignore`: releasing a lease whose device a process
/// holds. vfiod lists the holders and the device requests the kernel relayed; a holder that closes on request
/// lets the release finish; one that ignores it is signalled after `releaseTimeoutSeconds` per `escalation`.
enum CooperativeReleaseScenarios {
    /// `cooperative-release-close`: the holder closes at the first request.
    static func close(_ context: ScenarioContext) throws {
        let (api, lease, address, holder) = try leaseHeld(context, onRequest: "close",
                                                          policy: ["releaseTimeoutSeconds": 60, "escalation": "kill"])
        let operation = try api.releaseOperation(lease.id)
        try checkHolderSeen(operation, holder)
        try check(operation["escalation"] == nil || operation["escalation"] is NSNull,
                  "the release escalated although the holder closed: \(operation["escalation"] ?? "")")
        try check(holder.waitForLine(startingWith: "exit reason=request") != nil,
                  "vfio-holder did not close on the request: \(holder.transcript)")
        try finish(context, api, lease, address, operation)
    }

    /// `cooperative-release-ignore`: the holder ignores requests; after 2 s vfiod sends SIGTERM.
    static func ignore(_ context: ScenarioContext) throws {
        let (api, lease, address, holder) = try leaseHeld(context, onRequest: "ignore",
                                                          policy: ["releaseTimeoutSeconds": 2, "escalation": "terminate"])
        let operation = try api.releaseOperation(lease.id)
        try checkHolderSeen(operation, holder)
        guard let escalation = operation["escalation"] as? JSONObject else {
            throw ScenarioFailure("the release did not escalate against the ignoring holder: escalation \(operation["escalation"] ?? "absent")")
        }
        let pids = escalation["pids"] as? [Int] ?? []
        try check(escalation.string("policy") == "terminate" && pids.contains(Int(holder.pid)),
                  "escalation \(escalation), expected policy terminate against pid \(holder.pid)")
        try check(holder.waitForLine(startingWith: "exit reason=signal sig=TERM") != nil,
                  "vfio-holder did not end by SIGTERM: \(holder.transcript)")
        try finish(context, api, lease, address, operation)
    }

    /// Leases the lone edu with `policy` and starts a holder on it.
    private static func leaseHeld(_ context: ScenarioContext, onRequest: String, policy: JSONObject)
        throws -> (APIClient, ActiveLease, String, HolderChild) {
        let extra = HolderSteps.hostArguments(context)
        let api = try context.startVFIOD()
        let address = try LabInventory(api).alone(LabDevices.edu).string("address")
        let lease = try api.lease(["device": address], extra: policy)
        let holder = try context.startHolder(["--group", "\(lease.group)", "--device", address, "--on-request", onRequest] + extra)
        try HolderSteps.expectReady(holder, "/dev/vfio/\(lease.group)")
        return (api, lease, address, holder)
    }

    /// The release lists the holder's pid and at least one relayed device request.
    private static func checkHolderSeen(_ operation: JSONObject, _ holder: HolderChild) throws {
        guard let holders = operation["holders"] as? [JSONObject] else {
            throw ScenarioFailure("the release operation has no holders array; it ended \(operation.string("state"))")
        }
        try check(holders.contains { $0.int("pid") == Int(holder.pid) },
                  "the release's holders \(holders.map { $0.int("pid") ?? -1 }) lack vfio-holder's pid \(holder.pid)")
        let relayed = operation["requestsRelayed"] as? [JSONObject] ?? []
        try check(!relayed.isEmpty, "the release relayed no device request (requestsRelayed empty)")
    }

    /// The release succeeded, the holder exited 0 and the edu is back on no driver.
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
