import Foundation

/// `holder-socket`: a holder that runs as an unprivileged uid (which cannot open anything under `/dev/vfio`
/// or `/dev/iommu`) fetches its lease's descriptors from vfiod's holder socket (`vfio-opener --broker
/// --uid`), queries the device (`VFIO_DEVICE_GET_INFO`) and registers for the device request; a second
/// uid is refused; then a release with a holder that closes on request and one with a holder that ignores
/// it (SIGTERM escalation) behave as with a root opener. On an iommufd kernel the descriptors are iommufd
/// and the cdev; on Debian's, the group and a container.
enum HolderSocketScenario {
    static let holderUID = 4242

    static func run(_ context: ScenarioContext) throws {
        if context.environment.isSimulated { openToEveryone(context.hostRoot) }
        let api = try context.startVFIOD()
        let address = try LabInventory(api).alone(LabDevices.edu).string("address")
        let host = try api.get("/v1/host").json
        let path = host["cdevSupported"] as? Bool == true && host["iommufdPresent"] as? Bool == true ? "cdev" : "group"

        var (lease, holder) = try leaseHeld(context, api, address, onRequest: "close", policy: ["releaseTimeoutSeconds": 60])
        try check(holder.transcript.contains("path=\(path)"), "expected the \(path) descriptors: \(holder.transcript)")
        try check(holder.transcript.contains("fd kind=\(path == "cdev" ? "iommufd" : "group")"), "fds: \(holder.transcript)")
        if !context.environment.isSimulated {
            try check(holder.waitForLine(startingWith: "info flags=") != nil, "no VFIO_DEVICE_GET_INFO: \(holder.transcript)")
        }
        try refuseStranger(context, api, lease, address)
        var operation = try api.releaseOperation(lease.id)
        try checkReleased(operation, holder, "exit reason=request", api, lease)
        try check(operation["escalation"] == nil || operation["escalation"] is NSNull, "escalated although the holder closed")

        (lease, holder) = try leaseHeld(context, api, address, onRequest: "ignore",
                                        policy: ["releaseTimeoutSeconds": 2, "escalation": "terminate"])
        operation = try api.releaseOperation(lease.id)
        try checkReleased(operation, holder, "exit reason=signal sig=TERM", api, lease)
        let pids = (operation["escalation"] as? JSONObject)?["pids"] as? [Int] ?? []
        try check(pids.contains(Int(holder.pid)), "escalation \(operation["escalation"] ?? "none") lacks the holder's pid \(holder.pid)")
        try api.expectDevice(address, driver: nil, state: "available", "after the releases")
    }

    /// Leases `address` for ``holderUID`` and starts a holder that fetches its descriptors as that uid.
    private static func leaseHeld(_ context: ScenarioContext, _ api: APIClient, _ address: String, onRequest: String,
                                  policy: JSONObject) throws -> (ActiveLease, OpenerChild) {
        var extra = policy
        extra["holder"] = ["id": "scenario-vm", "tenant": "lab", "uid": holderUID]
        let lease = try api.lease(["device": address], extra: extra)
        let holder = try context.startOpener(brokerArguments(context, lease, address, uid: holderUID, onRequest: onRequest))
        try OpenerSteps.expectReady(holder, "assignment \(lease.id) through the holder socket")
        return (lease, holder)
    }

    /// Another uid is refused (`peer_not_holder`, exit 9) and both fetches are audited with their uids.
    private static func refuseStranger(_ context: ScenarioContext, _ api: APIClient, _ lease: ActiveLease, _ address: String) throws {
        // --hold-seconds 0: should it be given the descriptors after all, it lets go at once (and fails the check).
        let stranger = try context.startOpener(brokerArguments(context, lease, address, uid: holderUID + 1, onRequest: "close")
                                               + ["--hold-seconds", "0"])
        let refusal = stranger.waitForLine(startingWith: "refused ")
        let status = stranger.waitForExit()
        try check(status == 9 && refusal == "refused code=peer_not_holder",
                  "a second uid was not refused (exit \(status)): \(stranger.transcript)")
        let rows = try api.list("/v1/audit?assignment=\(lease.id)")
        let peers = rows.map { "\($0.string("action")) \(($0["after"] as? JSONObject)?["peerUid"] as? String ?? "")" }
        for expected in ["holder.descriptors_given \(holderUID)", "holder.descriptors_refused \(holderUID + 1)"] {
            try check(peers.contains(expected), "no audit row \(expected): \(peers)")
        }
    }

    private static func checkReleased(_ operation: JSONObject, _ holder: OpenerChild, _ exit: String, _ api: APIClient,
                                      _ lease: ActiveLease) throws {
        try check(operation.string("state") == "succeeded", "the release ended \(operation.string("state"))")
        let openers = operation["openers"] as? [JSONObject] ?? []
        try check(openers.contains { $0.int("pid") == Int(holder.pid) },
                  "the release's openers \(openers.map { $0.int("pid") ?? -1 }) lack the holder's pid \(holder.pid)")
        try check(!(operation["requestsRelayed"] as? [JSONObject] ?? []).isEmpty, "no device request relayed")
        try check(holder.waitForLine(startingWith: exit) != nil, "the holder did not end with \(exit): \(holder.transcript)")
        try check(try api.get("/v1/assignments/\(lease.id)").json.string("state") == "released", "not released")
    }

    private static func brokerArguments(_ context: ScenarioContext, _ lease: ActiveLease, _ address: String, uid: Int,
                                        onRequest: String) -> [String] {
        ["--broker", context.hostPath("run/vfiod/holder.sock"), "--assignment", lease.id,
         "--generation", String(lease.assignment.int("generation") ?? 0), "--device", address, "--uid", String(uid),
         "--on-request", onRequest] + OpenerSteps.hostArguments(context)
    }

    /// Makes every directory from the simulated tree up to `/tmp` traversable, for the unprivileged holder.
    private static func openToEveryone(_ root: String) {
        var path = root
        while path.count > 1, path != "/tmp" {
            chmod(path, 0o755)
            path = (path as NSString).deletingLastPathComponent
        }
    }
}
