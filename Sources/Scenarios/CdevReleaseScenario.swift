import Foundation

/// `cdev-release-ignore`: releasing a lease whose device a process holds through its cdev
/// (`/dev/vfio/devices/vfioX`, iommufd kernels only) and that ignores the kernel's device requests, once
/// with escalation `terminate` and once with `kill`. The kernel removes the cdev node as soon as the
/// unbind starts, so the opener's fd link then reads `/dev/vfio/devices/vfioX (deleted)`: vfiod must keep
/// following it, signal it after `releaseTimeoutSeconds`, and the release must finish.
enum CdevReleaseScenario {
    static func run(_ context: ScenarioContext) throws {
        let extra = OpenerSteps.hostArguments(context)
        let api = try context.startVFIOD()
        let host = try api.get("/v1/host").json
        guard host["cdevSupported"] as? Bool == true, host["iommufdPresent"] as? Bool == true else {
            throw ScenarioSkip("the kernel has no VFIO device cdev or no /dev/iommu (cdevSupported \(host["cdevSupported"] ?? "-"), iommufdPresent \(host["iommufdPresent"] ?? "-"))")
        }
        let address = try LabInventory(api).alone(LabDevices.edu).string("address")
        for (policy, signal) in [("terminate", "SIGTERM"), ("kill", "SIGKILL")] {
            try round(context, api, address, extra, policy: policy, signal: signal)
        }
    }

    /// One lease, a cdev opener that ignores requests, and its release escalated by `policy`.
    private static func round(_ context: ScenarioContext, _ api: APIClient, _ address: String, _ extra: [String],
                              policy: String, signal: String) throws {
        let lease = try api.lease(["device": address], extra: ["releaseTimeoutSeconds": 2, "escalation": policy])
        guard let cdev = lease.devicePaths.first(where: { $0.hasPrefix("/dev/vfio/devices/vfio") }) else {
            throw ScenarioFailure("devicePaths \(lease.devicePaths) have no /dev/vfio/devices/vfioX")
        }
        // The simulated opener names the device for its request FIFO; the real one finds it from the cdev.
        let device = context.environment.isSimulated ? ["--device", address] : []
        let opener = try context.startOpener(["--cdev", cdev, "--on-request", "ignore"] + device + extra)
        try OpenerSteps.expectReady(opener, cdev)

        let operation = try releaseWithin(api, lease.id, seconds: 90, opener: opener)
        let openers = operation["openers"] as? [JSONObject] ?? []
        guard let seen = openers.first(where: { $0.int("pid") == Int(opener.pid) }) else {
            throw ScenarioFailure("\(policy): the release's openers \(openers.map { $0.int("pid") ?? -1 }) lack vfio-opener's pid \(opener.pid)")
        }
        try check(seen["paths"] as? [String] == [cdev], "\(policy): the opener was seen with \(seen["paths"] ?? "-"), expected [\(cdev)]")
        guard let escalation = operation["escalation"] as? JSONObject else {
            throw ScenarioFailure("\(policy): the release did not escalate against the cdev opener: \(jsonText(operation).prefix(600))")
        }
        try check(escalation.string("policy") == policy && escalation.optionalString("signal") == signal
                  && (escalation["pids"] as? [Int] ?? []).contains(Int(opener.pid)),
                  "\(policy): escalation \(escalation), expected \(signal) to pid \(opener.pid)")
        let count = operation.int("requestsRelayedCount") ?? 0
        try check(count >= 1 && count >= (operation.int("requestsRelayedLogged") ?? 0),
                  "\(policy): requestsRelayedCount \(count), logged \(operation["requestsRelayedLogged"] ?? "-")")
        try check(operation.string("state") == "succeeded" && operation["stuck"] as? Bool != true,
                  "\(policy): the release ended \(operation.string("state")): \(operation.optionalString("error") ?? "")")
        if policy == "terminate" {
            try check(opener.waitForLine(startingWith: "exit reason=signal sig=TERM") != nil,
                      "vfio-opener did not end by SIGTERM: \(opener.transcript)")
        } else {
            let status = opener.waitForExit()
            try check(status == SIGKILL && opener.waitForLine(startingWith: "closed", seconds: 0) == nil,
                      "vfio-opener was not killed (status \(status)): \(opener.transcript)")
        }
        try api.expectDevice(address, driver: nil, state: "available", "after the \(policy) release")
        try LeaseScenarios.expectTree(context, address, driver: nil, override: nil, "after the \(policy) release")
    }

    /// Releases `id` and follows the operation for at most about `seconds` (a release that never ends is the
    /// failure this scenario looks for: it names what the operation shows, and stops the opener so the
    /// host gets its device back).
    private static func releaseWithin(_ api: APIClient, _ id: String, seconds: Int, opener: OpenerChild) throws -> JSONObject {
        let response = try api.send("DELETE", "/v1/assignments/\(id)")
        let location = try api.operationLocation(response, "DELETE /v1/assignments/\(id)")
        var operation: JSONObject = [:]
        for _ in 0..<max(1, seconds / 5) {
            operation = try api.get(location + "?wait=5").json
            if APIClient.finalStates.contains(operation.string("state")) { return operation }
        }
        opener.stop()
        throw ScenarioFailure("the release did not finish within \(seconds) s: \(jsonText(operation).prefix(800))")
    }
}
