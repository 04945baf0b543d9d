import Testing
import Foundation
import Inventory
import VFIOCore

private func facts(_ address: String, classCode: UInt32 = 0x020000, driver: String? = "e1000e", group: Int? = 1) -> PCIDeviceFacts {
    var facts = PCIDeviceFacts(address: PCIAddress(address)!, vendorID: 0x8086, deviceID: 0x10d3, classCode: classCode,
                               sysfsPath: "/sys/devices/pci0000:00/\(address)")
    facts.driver = driver
    facts.iommuGroup = group
    facts.isBridge = classCode >> 8 == 0x0604
    return facts
}

private let builder = InventoryBuilder(allowlist: Allowlist([try! AllowSpec(parsing: "all")]))

private func scan(_ devices: [PCIDeviceFacts], nodes: Set<Int> = []) -> HostScan {
    var groups: [Int: [PCIAddress]] = [:]
    for device in devices { if let group = device.iommuGroup { groups[group, default: []].append(device.address) } }
    var host = HostFacts()
    host.vfioGroupNodes = nodes
    return HostScan(host: host, devices: devices, groups: groups.mapValues { $0.sorted() }, notes: [])
}

/// Derives the next snapshot from `previous` and checks it against a full build of the same inputs.
private func derive(_ next: HostScan, from previous: InventorySnapshot, changed: [String],
                    assignments: [PCIAddress: AssignmentMark] = [:]) -> InventorySnapshot {
    let derived = builder.build(scan: next, backend: "simulated", generation: previous.generation + 1, takenAt: previous.takenAt,
                                scanDuration: 0, assignments: assignments, previous: previous,
                                changedFacts: changed.map { PCIAddress($0)! })
    let full = builder.build(scan: next, backend: "simulated", generation: previous.generation + 1, takenAt: previous.takenAt,
                             scanDuration: 0, assignments: assignments)
    #expect(derived.devices == full.devices)
    #expect(derived.groups == full.groups)
    #expect(derived.stateCounts == full.stateCounts)
    return derived
}

struct IncrementalFallbackTests {
    let devices = [
        facts("0000:00:01.0", classCode: 0x060400, driver: "pcieport", group: 1),
        facts("0000:01:00.0", group: 1),
        facts("0000:01:00.1", group: 1),
        facts("0000:02:00.0", group: 2),
    ]

    @Test func aMountAppearingOnAReadDeviceProtectsItsGroupMatesToo() {
        let first = builder.build(scan: scan(devices), backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        var mounted = devices
        mounted[1].mountedBlockDevices = ["sdb"]
        let next = derive(scan(mounted), from: first, changed: ["0000:01:00.0"])
        #expect(next.device(PCIAddress("0000:01:00.1")!)?.state == .protected)
        #expect(next.device(PCIAddress("0000:00:01.0")!)?.state == .host)
        #expect(next.group(1)?.assignable == false)
        // Protection moved: the result is a full build, which says nothing about what changed.
        #expect(next.changes == nil)
    }

    @Test func aVFIONodeAppearingChangesItsGroupAndMembersOnly() throws {
        let first = builder.build(scan: scan(devices), backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        let next = derive(scan(devices, nodes: [2]), from: first, changed: [])
        let changes = try #require(next.changes)
        #expect(changes.devices == [3])
        #expect(changes.groups == [1])
        #expect(next.group(2)?.vfioGroupPresent == true)
        #expect(next.device(PCIAddress("0000:02:00.0")!)?.vfioGroupPresent == true)
    }

    @Test func leaseMarksChangeOnlyTheirDevicesAndGroups() throws {
        let first = builder.build(scan: scan(devices), backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        let marked = derive(scan(devices), from: first, changed: [],
                            assignments: [PCIAddress("0000:02:00.0")!: AssignmentMark(assignmentID: "asg_1", state: .binding),
                                     PCIAddress("0000:09:00.0")!: AssignmentMark(assignmentID: "asg_2", state: .assigned)])
        #expect(try #require(marked.changes).devices == [3])
        #expect(marked.stateCounts[.binding] == 1)
        let cleared = derive(scan(devices), from: marked, changed: [])
        #expect(try #require(cleared.changes).devices == [3])
        #expect(try #require(cleared.changes).groups == [1])
        #expect(cleared.stateCounts[.binding] == nil)
    }

    @Test func anAddressTheHostDoesNotHaveFallsBackToAFullBuild() {
        let first = builder.build(scan: scan(devices), backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        let next = derive(scan(devices), from: first, changed: ["0000:0f:00.0"])
        #expect(next.changes == nil)
    }

    @Test func aSnapshotMadeWithoutTheBuilderIsBuiltInFull() {
        let full = builder.build(scan: scan(devices), backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        let plain = InventorySnapshot(generation: 1, takenAt: full.takenAt, scanDuration: 0, host: full.host, backend: "simulated",
                                      devices: full.devices.reversed(), groups: full.groups, notes: [])
        #expect(plain.devices == full.devices)
        let next = derive(scan(devices), from: plain, changed: [])
        #expect(next.changes == nil)
    }
}
