/// `refusals`: what vfiod must refuse to lend — a protected device (the NIC given the default route for the
/// check), a device outside the allowlist, a group of
/// bridges only, an unknown device, and a group that is leased already (by device and by group number).
enum RefusalsScenario {
    static func run(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let inventory = try LabInventory(api)

        let outside = inventory.devices.first {
            $0.string("state") == "host" && $0["isBridge"] as? Bool != true && $0.int("iommuGroup") != nil
                && inventory.groupMembers(of: $0).allSatisfy { inventory.device($0)?.string("state") != "available" }
        }
        guard let outside else { throw ScenarioFailure("no device outside the allowlist with a group of its own to try") }
        try expectRefusal(api, ["device": outside.string("address")], 409, "group_not_assignable",
                          "\(outside.string("address")), outside the allowlist")
        if let bridgesOnly = inventory.groups.first(where: { group in
            let members = group["devices"] as? [String] ?? []
            return !members.isEmpty && members.allSatisfy { inventory.device($0)?["isBridge"] as? Bool == true }
        }), let id = bridgesOnly.int("id") {
            try expectRefusal(api, ["group": id], 409, "group_not_assignable", "group \(id) of bridges only")
        }
        try expectRefusal(api, ["device": "0000:fe:1f.7"], 404, "device_not_found", "a device the host does not have")

        let edu = try inventory.alone(LabDevices.edu)
        let lease = try api.lease(["device": edu.string("address")])
        for target: JSONObject in [["device": edu.string("address")], ["group": lease.group]] {
            let second = try api.requestLease(target, holder: "another-vm")
            try check(second.status == 409 && second.code == "group_assigned" && second.json.string("assignmentId") == lease.id,
                      second.describe("a second lease of \(target) while \(lease.id) holds it") + " (assignmentId \(second.json.string("assignmentId")))")
        }
        try api.release(lease.id)
        try protectedByTheDefaultRoute(context, inventory)
    }

    /// Gives the e1000e the default route, restarts vfiod, and expects the NIC protected and its lease refused.
    private static func protectedByTheDefaultRoute(_ context: ScenarioContext, _ inventory: LabInventory) throws {
        let nic = try inventory.alone(LabDevices.e1000e).string("address")
        let route = try DefaultRouteStep(context, nicAddress: nic)
        defer { route.restore() }
        let api = try context.startVFIOD()
        let device = try api.device(nic)
        try check(device.string("state") == "protected" && device.string("stateReason").contains(route.interface),
                  "\(nic) carries the default route via \(route.interface) but is \(device.string("state")): \(device.string("stateReason"))")
        try expectRefusal(api, ["device": nic], 409, "group_not_assignable", "\(nic), the NIC with the default route")
    }

    private static func expectRefusal(_ api: APIClient, _ target: JSONObject, _ status: Int, _ code: String, _ what: String) throws {
        let response = try api.requestLease(target)
        if response.status == 202, let location = response.raw.header("Operation-Location") {
            // Lent by mistake: give it back before failing, so a real host is left as found.
            _ = try? api.follow(location)
            _ = try? api.releaseOperation(response.json.string("id"))
        }
        try check(response.status == status && response.code == code,
                  response.describe("leasing \(what)") + " — expected \(status) \(code)")
    }
}
