import Testing
import Foundation
import Inventory
import VFIOCore

private func device(_ address: String, classCode: UInt32 = 0x020000, driver: String? = "e1000e", group: Int? = 1,
                    configure: (inout PCIDeviceFacts) -> Void = { _ in }) -> PCIDeviceFacts {
    var facts = PCIDeviceFacts(address: PCIAddress(address)!, vendorID: 0x8086, deviceID: 0x10d3, classCode: classCode,
                               sysfsPath: "/sys/devices/pci0000:00/\(address)")
    facts.driver = driver
    facts.iommuGroup = group
    facts.isBridge = classCode >> 8 == 0x0604
    configure(&facts)
    return facts
}

private func build(_ devices: [PCIDeviceFacts], allow: [String] = ["all"], vfioNodes: Set<Int> = []) throws -> InventorySnapshot {
    var groups: [Int: [PCIAddress]] = [:]
    for facts in devices { if let group = facts.iommuGroup { groups[group, default: []].append(facts.address) } }
    var host = HostFacts()
    host.vfioGroupNodes = vfioNodes
    let scan = HostScan(host: host, devices: devices, groups: groups, notes: [])
    let builder = InventoryBuilder(allowlist: Allowlist(try allow.map { try AllowSpec(parsing: $0) }))
    return builder.build(scan: scan, backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
}

@Test func nothingIsAvailableWithoutAnAllowlist() throws {
    let snapshot = try build([device("0000:03:00.0")], allow: [])
    #expect(snapshot.devices[0].state == .host)
    #expect(snapshot.devices[0].stateReason == "not in the allowlist")
    #expect(snapshot.groups[0].assignable == false)
}

@Test func protectionCoversTheConsoleGPUStorageAndTheDefaultRouteAndTheirGroupMates() throws {
    let snapshot = try build([
        device("0000:00:02.0", classCode: 0x030000, driver: "i915", group: 0) { $0.bootVGA = true },
        device("0000:00:02.1", classCode: 0x040300, driver: "snd_hda_intel", group: 0),
        device("0000:01:00.0", classCode: 0x010802, driver: "nvme", group: 1) { $0.mountedBlockDevices = ["nvme0n1"] },
        device("0000:02:00.0", driver: "e1000e", group: 2) { $0.netInterfaces = ["eth0"]; $0.carriesDefaultRoute = true },
        device("0000:03:00.0", driver: "e1000e", group: 3) { $0.netInterfaces = ["eth1"] },
    ])
    let states = Dictionary(uniqueKeysWithValues: snapshot.devices.map { ($0.address.description, $0) })
    #expect(states["0000:00:02.0"]?.state == .protected)
    #expect(states["0000:00:02.0"]?.stateReason.contains("boot_vga") == true)
    #expect(states["0000:00:02.1"]?.state == .protected)
    #expect(states["0000:00:02.1"]?.stateReason.contains("shares IOMMU group 0 with protected 0000:00:02.0") == true)
    #expect(states["0000:01:00.0"]?.stateReason.contains("nvme0n1") == true)
    #expect(states["0000:02:00.0"]?.stateReason.contains("default route (eth0)") == true)
    #expect(states["0000:03:00.0"]?.state == .available)
    #expect(snapshot.group(3)?.assignable == true)
    #expect(snapshot.group(0)?.assignable == false)
}

@Test func bridgesStayHostAndNeitherProtectNorBlockTheirGroup() throws {
    let snapshot = try build([
        device("0000:05:00.0", classCode: 0x060400, driver: "pcieport", group: 7),
        device("0000:06:00.0", driver: "e1000", group: 7),
        device("0000:06:01.0", classCode: 0x00ff00, driver: nil, group: 7),
    ])
    #expect(snapshot.device(PCIAddress("0000:05:00.0")!)?.state == .host)
    let group = try #require(snapshot.group(7))
    #expect(group.assignable)
    #expect(!group.viable)
    #expect(group.blockers.map(\.device.description) == ["0000:06:00.0"])
    #expect(group.blockers.first?.driver == "e1000")
}

@Test func viabilityFollowsTheKernelRule() throws {
    let snapshot = try build([
        device("0000:05:00.0", classCode: 0x060400, driver: "pcieport", group: 7),
        device("0000:06:00.0", driver: "vfio-pci", group: 7),
        device("0000:06:01.0", driver: nil, group: 7),
        device("0000:07:00.0", driver: "mlx5_vfio_pci", group: 8),
        device("0000:08:00.0", driver: "pci-stub", group: 9),
    ], vfioNodes: [7])
    #expect(snapshot.groups.allSatisfy { $0.viable })
    #expect(snapshot.group(7)?.vfioGroupPresent == true)
    #expect(snapshot.group(8)?.vfioGroupPresent == false)
    #expect(snapshot.device(PCIAddress("0000:06:00.0")!)?.vfioGroupPresent == true)
}

@Test func aDeviceWithoutAnIOMMUGroupIsNeverAvailable() throws {
    let snapshot = try build([device("0000:03:00.0", group: nil)])
    #expect(snapshot.devices[0].state == .host)
    #expect(snapshot.devices[0].stateReason.contains("no IOMMU group"))
    #expect(snapshot.groups.isEmpty)
}

@Test func snapshotIndexesAndKeysetPositions() throws {
    let addresses = ["0000:03:00.0", "0000:00:1f.0", "0001:00:00.0", "0000:41:00.1", "0000:41:00.0"]
    let snapshot = try build(addresses.enumerated().map { device($1, group: $0) })
    #expect(snapshot.devices.map(\.address.description) == ["0000:00:1f.0", "0000:03:00.0", "0000:41:00.0", "0000:41:00.1", "0001:00:00.0"])
    #expect(snapshot.firstDeviceIndex(after: PCIAddress("0000:03:00.0")!) == 2)
    #expect(snapshot.firstDeviceIndex(after: PCIAddress("0000:04:00.0")!) == 2)
    #expect(snapshot.firstDeviceIndex(after: PCIAddress("ffff:00:00.0")!) == 5)
    #expect(snapshot.deviceIndex(of: PCIAddress("0000:41:00.1")!) == 3)
    #expect(snapshot.stateCounts[.available] == 5)
}

/// The QEMU lab: Debian's shpchp takes a PCIe-to-PCI bridge, and its group is never viable while it does.
@Test func aBridgeOnAnUnsafeDriverKeepsItsGroupFromBeingLent() throws {
    let onShpchp = try build([
        device("0000:03:00.0", classCode: 0x060400, driver: "shpchp", group: 10),
        device("0000:04:01.0", driver: "e1000", group: 10),
    ])
    let group = try #require(onShpchp.group(10))
    #expect(!group.viable)
    #expect(!group.assignable)
    #expect(group.assignableReason?.contains("bridge 0000:03:00.0 is on shpchp") == true, "\(group)")
    let unbound = try build([
        device("0000:03:00.0", classCode: 0x060400, driver: nil, group: 10),
        device("0000:04:01.0", driver: "e1000", group: 10),
    ])
    #expect(unbound.group(10)?.assignable == true)
}
