import Foundation

/// `lease-edu`, `lease-e1000e`, `lease-bridge-group`: lease, check the binding in the inventory and the tree,
/// release, check the original drivers are back with no `driver_override` left.
enum LeaseScenarios {
    /// `lease-edu`: the lone edu to vfio-pci, its group node usable by `vfio-opener`, and back to no driver.
    static func edu(_ context: ScenarioContext) throws {
        try roundTrip(context, id: LabDevices.edu, useOpener: true)
    }

    /// `lease-e1000e`: taken from e1000e, given back to e1000e.
    static func e1000e(_ context: ScenarioContext) throws {
        try roundTrip(context, id: LabDevices.e1000e, useOpener: false)
    }

    private static func roundTrip(_ context: ScenarioContext, id: String, useOpener: Bool) throws {
        let api = try context.startVFIOD()
        let device = try LabInventory(api).alone(id)
        let address = device.string("address")
        let original = device.optionalString("driver")
        let lease = try api.lease(["device": address])
        try check(lease.devicePaths.contains("/dev/vfio/\(lease.group)"), "devicePaths \(lease.devicePaths) lack /dev/vfio/\(lease.group)")
        try api.expectDevice(address, driver: "vfio-pci", state: "assigned", "after the bind")
        try expectTree(context, address, driver: "vfio-pci", override: "vfio-pci", "after the bind")
        if useOpener { try OpenerSteps.holdBriefly(context, group: lease.group, address: address) }
        try api.release(lease.id)
        try api.expectDevice(address, driver: original, state: "available", "after the release")
        try expectTree(context, address, driver: original, override: nil, "after the release")
    }

    /// `lease-bridge-group`: the group behind the PCIe-to-PCI bridge; its endpoints to vfio-pci, the bridge
    /// untouched, and everything restored on release.
    static func bridgeGroup(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let inventory = try LabInventory(api)
        let e1000 = try inventory.shared(LabDevices.e1000)
        guard let group = e1000.int("iommuGroup") else { throw ScenarioFailure("the e1000 has no group") }
        let members = inventory.groupMembers(of: e1000).compactMap { inventory.device($0) }
        let bridges = members.filter { $0["isBridge"] as? Bool == true }
        let endpoints = members.filter { $0["isBridge"] as? Bool != true }
        try check(bridges.count == 1 && endpoints.count == 2, "group \(group): \(bridges.count) bridge(s), \(endpoints.count) endpoint(s)")
        let bridge = bridges[0].string("address"), bridgeDriver = bridges[0].optionalString("driver")

        let lease = try api.lease(["group": group])
        for endpoint in endpoints {
            try api.expectDevice(endpoint.string("address"), driver: "vfio-pci", state: "assigned", "after the bind")
            try expectTree(context, endpoint.string("address"), driver: "vfio-pci", override: "vfio-pci", "after the bind")
        }
        try check(context.driver(of: bridge) == bridgeDriver && context.driverOverride(of: bridge) == nil,
                  "after the bind the bridge \(bridge) is on \(context.driver(of: bridge) ?? "no driver") (override \(context.driverOverride(of: bridge) ?? "none")), was \(bridgeDriver ?? "no driver")")
        try api.release(lease.id)
        for endpoint in endpoints {
            let address = endpoint.string("address"), original = endpoint.optionalString("driver")
            try api.expectDevice(address, driver: original, state: "available", "after the release")
            try expectTree(context, address, driver: original, override: nil, "after the release")
        }
        try check(context.driver(of: bridge) == bridgeDriver, "after the release the bridge \(bridge) is on \(context.driver(of: bridge) ?? "no driver")")
    }

    /// The `driver` link and `driver_override` in the host tree itself, not vfiod's view of them.
    static func expectTree(_ context: ScenarioContext, _ address: String, driver: String?, override: String?, _ when: String) throws {
        let (actualDriver, actualOverride) = (context.driver(of: address), context.driverOverride(of: address))
        try check(actualDriver == driver && actualOverride == override,
                  "\(when): in sysfs \(address) is on \(actualDriver ?? "no driver") with driver_override \(actualOverride ?? "(null)"), expected \(driver ?? "no driver") / \(override ?? "(null)")")
    }
}
