/// `reset-e1000e` and `reset-nvme`: the reset preview and the hot reset of a leased device; a device that is
/// not leased is refused; a reset that fails quarantines the device until an admin restores it.
enum ResetScenarios {
    /// `reset-e1000e`: hot reset works behind the `x-speed=5` root port.
    static func e1000e(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let inventory = try LabInventory(api)
        let address = try inventory.alone(LabDevices.e1000e).string("address")
        let free = try inventory.alone(LabDevices.nvme).string("address")

        let freeScope = try api.resetScope(free, method: "hot")
        try check(freeScope["canReset"] as? Bool == false, "the reset scope of \(free), not leased, says canReset: \(freeScope)")
        let refused = try api.requestReset(free, method: "hot")
        try check(refused.status == 409 && refused.code == "reset_not_possible",
                  refused.describe("resetting \(free), not leased") + " — expected 409 reset_not_possible")

        let lease = try api.lease(["device": address])
        let scope = try api.resetScope(address, method: "hot")
        try check(scope["canReset"] as? Bool == true, "reset scope of the leased e1000e: canReset is not true: \(scope)")
        try check(scope.optionalString("method") == "hot", "reset scope method \(scope["method"] ?? "nil"), expected hot")
        guard let entry = scopeEntry(scope, address) else { throw ScenarioFailure("the reset scope does not list \(address): \(scope)") }
        try check(entry.string("owner") == "this-assignment" && entry.string("assignmentId") == lease.id,
                  "reset scope entry of \(address): \(entry)")
        try check((scope["blockers"] as? [JSONObject] ?? []).isEmpty, "reset scope blockers: \(scope["blockers"] ?? "")")

        let operation = try api.reset(address, method: "hot")
        try check(operation.string("state") == "succeeded",
                  "hot reset of \(address) ended \(operation.string("state")): \(operation.optionalString("error") ?? "")")
        try api.expectDevice(address, driver: "vfio-pci", state: "assigned", "after the reset")
        try api.release(lease.id)
        try api.expectDevice(address, driver: "e1000e", state: "available", "after the release")
        try LeaseScenarios.expectTree(context, address, driver: "e1000e", override: nil, "after the release")
    }

    /// `reset-nvme`: the hot reset fails with `ENOTTY` (default root port); the nvme is quarantined on vfio-pci,
    /// and the admin's restore gives it back to nvme.
    static func nvme(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let device = try LabInventory(api).alone(LabDevices.nvme)
        let address = device.string("address")
        let original = device.optionalString("driver")
        let lease = try api.lease(["device": address])
        let scope = try api.resetScope(address, method: "hot")
        try check(scope["canReset"] as? Bool == true, "reset scope of the leased nvme: canReset is not true: \(scope)")

        let operation = try api.reset(address, method: "hot")
        try check(operation.string("state") == "failed" && (operation.optionalString("error") ?? "").contains("ENOTTY"),
                  "hot reset of \(address) ended \(operation.string("state")) with error \(operation.optionalString("error") ?? "none"), expected failed with ENOTTY")
        try api.expectDevice(address, driver: "vfio-pci", state: "quarantined", "after the failed reset")

        let release = try api.releaseOperation(lease.id)
        context.note("release of the quarantined nvme's lease ended \(release.string("state")) \(release.optionalString("error") ?? "")")
        try api.expectDevice(address, driver: "vfio-pci", state: "quarantined", "after releasing the lease")

        let restore = try api.restoreFromQuarantine(address)
        try check(restore.string("state") == "succeeded",
                  "restore of \(address) ended \(restore.string("state")): \(restore.optionalString("error") ?? "")")
        try api.expectDevice(address, driver: original, state: "available", "after the restore")
        try LeaseScenarios.expectTree(context, address, driver: original, override: nil, "after the restore")
    }
}
