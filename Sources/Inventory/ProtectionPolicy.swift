public import VFIOCore

/// Decides which devices policy forbids vfiod to lend, and why.
///
/// A device is protected when it is the console GPU (`boot_vga` = 1), a storage controller with
/// mounted filesystems below it, or the NIC carrying the default route — and so is every device that
/// shares an IOMMU group with one of those, since a group is lent whole. Bridges are neither sources
/// nor targets of protection: vfiod never binds them, and they do not keep endpoints from being lent.
public struct ProtectionPolicy: Sendable {
    /// Creates the policy.
    public init() {}

    /// The direct reason policy forbids lending this device, or `nil`.
    public func directReason(_ facts: PCIDeviceFacts) -> String? {
        if facts.bootVGA {
            return "console GPU (boot_vga=1)"
        }
        if !facts.mountedBlockDevices.isEmpty {
            return "storage controller with mounted filesystems on " + facts.mountedBlockDevices.joined(separator: ", ")
        }
        if facts.carriesDefaultRoute {
            return "NIC carrying the default route (" + facts.netInterfaces.joined(separator: ", ") + ")"
        }
        return nil
    }

    /// Every protected device with its reason: direct reasons first, then group-mates of protected devices.
    public func protectedDevices(_ devices: [PCIDeviceFacts], groups: [Int: [PCIAddress]]) -> [PCIAddress: String] {
        var reasons: [PCIAddress: String] = [:]
        for facts in devices where !InventoryBuilder.isBridgeClass(facts) {
            if let reason = directReason(facts) { reasons[facts.address] = reason }
        }
        let bridges = Set(devices.filter(InventoryBuilder.isBridgeClass).map(\.address))
        for (groupID, members) in groups.sorted(by: { $0.key < $1.key }) {
            guard let source = members.first(where: { reasons[$0] != nil && !bridges.contains($0) }),
                  let sourceReason = reasons[source] else { continue }
            for member in members where reasons[member] == nil && !bridges.contains(member) {
                reasons[member] = "shares IOMMU group \(groupID) with protected \(source) (\(sourceReason))"
            }
        }
        return reasons
    }
}
