/// `inventory`: the lab's devices are there by id, with the groups the kernel makes (edu, e1000e and nvme
/// alone; the PCIe-to-PCI bridge with the e1000 and the second edu, not viable because of the e1000), their
/// starting drivers, reported reset methods, and all of them lendable.
enum InventoryScenario {
    static func run(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let host = try api.get("/v1/host").json
        try check(host["iommuPresent"] as? Bool == true, "GET /v1/host: iommuPresent is not true: \(host)")
        try check(host["vfioPciLoaded"] as? Bool == true, "GET /v1/host: vfioPciLoaded is not true")
        let expectedBackend = context.environment.isSimulated ? "simulated" : "linux"
        try check(host.string("backend") == expectedBackend, "backend \(host.string("backend")), expected \(expectedBackend)")

        let inventory = try LabInventory(api)
        for (id, count) in [(LabDevices.edu, 2), (LabDevices.e1000e, 1), (LabDevices.e1000, 1), (LabDevices.nvme, 1)] {
            let found = inventory.devices(id: id)
            try check(found.count == count, "expected \(count) × \(id), found \(found.map { $0.string("address") })")
            for device in found {
                let expected = LabDevices.startingDrivers[id] ?? [nil]
                try check(expected.contains(device.optionalString("driver")),
                          "\(device.string("address")) (\(id)) is on \(device.optionalString("driver") ?? "no driver"), expected one of \(expected.map { $0 ?? "no driver" }.sorted())")
                try check(device.string("state") == "available",
                          "\(device.string("address")) (\(id)) is \(device.string("state")): \(device.string("stateReason"))")
                try check(device.keys.contains("resetMethods"), "\(device.string("address")) has no resetMethods member")
            }
        }
        let e1000e = try inventory.alone(LabDevices.e1000e)
        _ = try inventory.alone(LabDevices.edu)
        _ = try inventory.alone(LabDevices.nvme)
        let methods = e1000e["resetMethods"] as? [String] ?? []
        try check(!methods.isEmpty, "the e1000e reports no reset methods")
        context.note("reset methods: " + inventory.devices.filter { $0["resetMethods"] is [String] }
            .map { "\($0.string("address"))=\(($0["resetMethods"] as? [String] ?? []).joined(separator: "+"))" }.joined(separator: " "))

        try checkBridgeGroup(inventory)
    }

    /// The bridge's group: the bridge, the e1000 and the second edu; not viable, the e1000 the blocker; lendable.
    private static func checkBridgeGroup(_ inventory: LabInventory) throws {
        let e1000 = try inventory.shared(LabDevices.e1000)
        let edu = try inventory.shared(LabDevices.edu)
        guard let groupID = e1000.int("iommuGroup"), let group = inventory.group(groupID) else {
            throw ScenarioFailure("the e1000 \(e1000.string("address")) has no group")
        }
        try check(edu.int("iommuGroup") == groupID, "the second edu is in group \(edu.int("iommuGroup") ?? -1), the e1000 in \(groupID)")
        let members = group["devices"] as? [String] ?? []
        let bridges = members.compactMap { inventory.device($0) }.filter { $0["isBridge"] as? Bool == true }
        try check(members.count == 3 && bridges.count == 1,
                  "group \(groupID) has \(members) with \(bridges.count) bridge(s); expected a bridge, the e1000 and an edu")
        try check(group["viable"] as? Bool == false, "group \(groupID) is viable while the e1000 has its driver")
        let blockers = group["blockers"] as? [JSONObject] ?? []
        try check(blockers.map { $0.string("device") } == [e1000.string("address")],
                  "group \(groupID) blockers \(blockers), expected only the e1000 \(e1000.string("address"))")
        try check(blockers.first?.string("driver") == "e1000", "the blocker's driver is \(blockers.first?.string("driver") ?? "-")")
        try check(group["assignable"] as? Bool == true,
                  "group \(groupID) is not assignable: \(group.optionalString("assignableReason") ?? "")")
    }
}
