public import VFIOCore
public import Foundation

/// Turns one kernel scan into an inventory snapshot: names, policy, states, group viability.
public struct InventoryBuilder: Sendable {
    /// What may ever be lent.
    public var allowlist: Allowlist
    /// Names for ids.
    public var names: any PCINameLookup
    /// What policy protects.
    public var protection: ProtectionPolicy

    /// Creates a builder.
    public init(allowlist: Allowlist, names: any PCINameLookup = NoPCINames(), protection: ProtectionPolicy = ProtectionPolicy()) {
        self.allowlist = allowlist
        self.names = names
        self.protection = protection
    }

    /// Builds the snapshot for `scan`.
    public func build(scan: HostScan, backend: String, generation: UInt64, takenAt: Date, scanDuration: Double,
                      assignments: [PCIAddress: AssignmentMark] = [:]) -> InventorySnapshot {
        let protected = protection.protectedDevices(scan.devices, groups: scan.groups)
        let devices = scan.devices.map { facts in
            device(facts, protectedReason: protected[facts.address], lease: assignments[facts.address], host: scan.host)
        }.sorted { $0.address < $1.address }
        let deviceIndex = Dictionary(uniqueKeysWithValues: devices.enumerated().map { ($1.address, $0) })
        let groups = scan.groups.map { id, members in
            group(id: id, members: members, host: scan.host) { deviceIndex[$0].map { devices[$0] } }
        }.sorted { $0.id < $1.id }
        let groupIndex = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($1.id, $0) })
        let topology = InventoryTopology(devices: devices, groups: groups, deviceIndex: deviceIndex)
        return InventorySnapshot(generation: generation, takenAt: takenAt, scanDuration: scanDuration, host: scan.host,
                                 backend: backend, sortedDevices: devices, sortedGroups: groups,
                                 notes: HostAdvice.notes(for: scan.host, allowlist: allowlist) + scan.notes,
                                 deviceIndex: deviceIndex, groupIndex: groupIndex,
                                 stateCounts: InventorySnapshot.count(devices), changes: nil,
                                 buildState: InventoryBuildState(marks: assignments, protected: protected, topology: topology))
    }

    /// The inventory's entry for one function: names, then the state policy and the lease mark give it.
    func device(_ facts: PCIDeviceFacts, protectedReason: String?, lease: AssignmentMark?, host: HostFacts) -> Device {
        var (state, reason) = state(of: facts, protectedReason: protectedReason)
        if let lease {
            state = lease.state
            if lease.state == .quarantined {
                reason = "quarantined: \(lease.reason ?? "no reason recorded"); an admin must clear it"
            } else {
                // Not naming the assignment: group blockers and 409s repeat this reason to every tenant.
                reason = "\(lease.state.rawValue) under a live assignment"
            }
        }
        return Device(
            facts: facts,
            vendorName: names.vendorName(facts.vendorID),
            deviceName: names.deviceName(vendor: facts.vendorID, device: facts.deviceID),
            className: names.className(facts.classCode),
            state: state,
            stateReason: reason,
            vfioGroupPresent: facts.iommuGroup.map { host.vfioGroupNodes.contains($0) } ?? false,
            assignmentID: lease?.assignmentID)
    }

    private func state(of facts: PCIDeviceFacts, protectedReason: String?) -> (DeviceState, String) {
        if Self.isBridgeClass(facts) {
            return (.host, "bridge (class \(Hex.pad(facts.classCode >> 8, 4))): vfiod never binds bridges; "
                + "it does not keep its group from being lent")
        }
        if let protectedReason {
            return (.protected, protectedReason)
        }
        guard let spec = allowlist.admittingSpec(for: facts) else {
            return (.host, "not in the allowlist")
        }
        guard facts.iommuGroup != nil else {
            return (.host, "allowed by \(spec), but it has no IOMMU group: VFIO cannot isolate it")
        }
        let driverText = facts.driver.map { "on \($0)" } ?? "unbound"
        return (.available, "allowed by \(spec); \(driverText)")
    }

    /// Why a bridge member keeps its group from being lent: vfiod never rebinds bridges, and one on a
    /// driver the kernel does not count as safe (shpchp on a PCIe-to-PCI bridge, seen in the QEMU lab)
    /// keeps the group from ever being viable. `nil` for an endpoint or a bridge on a safe driver.
    public static func bridgeBlocker(_ device: Device) -> String? {
        guard isBridgeClass(device.facts), let driver = device.facts.driver, !Viability.isSafe(driver: driver) else { return nil }
        return "bridge \(device.address) is on \(driver), which keeps the group from being viable; vfiod does not rebind bridges"
    }

    /// PCI-to-PCI bridges and every other base-class 06 function (host, ISA/LPC, other bridges): part of
    /// the platform, never lent, and never a reason to refuse lending the endpoints beside them.
    public static func isBridgeClass(_ facts: PCIDeviceFacts) -> Bool {
        facts.isBridge || facts.classCode >> 16 == 0x06
    }

    /// The group entry for `members`, whose devices `devices` finds by address.
    func group(id: Int, members: [PCIAddress], host: HostFacts, devices: (PCIAddress) -> Device?) -> IOMMUGroup {
        var blockers: [GroupBlocker] = []
        var notAvailable: [String] = []
        for address in members {
            guard let device = devices(address) else { continue }
            if !Viability.isSafe(driver: device.facts.driver), let driver = device.facts.driver {
                blockers.append(GroupBlocker(
                    device: address, driver: driver,
                    reason: "bound to host driver \(driver), which does not let userspace own DMA; "
                        + "the group is viable once it is unbound or bound to vfio-pci"))
            }
            if !Self.isBridgeClass(device.facts) && device.state != .available {
                notAvailable.append("\(address) is \(device.state.rawValue): \(device.stateReason)")
            }
            if let blocker = Self.bridgeBlocker(device) { notAvailable.append(blocker) }
        }
        let hasEndpoint = members.contains { devices($0).map { !Self.isBridgeClass($0.facts) } ?? false }
        let assignableReason: String? = !hasEndpoint ? "the group has no endpoint to lend (bridges only)"
            : notAvailable.isEmpty ? nil : notAvailable.joined(separator: "; ")
        return IOMMUGroup(id: id, devices: members.sorted(), viable: blockers.isEmpty, blockers: blockers,
                          assignable: assignableReason == nil, assignableReason: assignableReason,
                          vfioGroupPresent: host.vfioGroupNodes.contains(id))
    }
}
