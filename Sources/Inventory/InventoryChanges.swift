import VFIOCore

/// What one snapshot changed against the snapshot published just before it: the positions of the
/// devices and groups whose values differ. Consumers that keep per-snapshot state (pre-encoded JSON,
/// driver expectations) update only those, instead of comparing every device.
///
/// Present only on snapshots built incrementally (patches and lease-mark changes); a snapshot from a
/// full scan, or one made with the public initialiser, has none, and consumers must compare everything.
public struct InventoryChanges: Sendable, Hashable {
    /// The generation these changes are relative to. Both snapshots have the same devices and groups
    /// at the same positions.
    public let baseGeneration: UInt64
    /// Positions in `devices` of every device whose value differs from the base snapshot's, ascending.
    public let devices: [Int]
    /// Positions in `groups` of every group whose value differs from the base snapshot's, ascending.
    public let groups: [Int]

    /// Creates a change list.
    public init(baseGeneration: UInt64, devices: [Int], groups: [Int]) {
        self.baseGeneration = baseGeneration
        self.devices = devices
        self.groups = groups
    }
}

/// What the builder keeps with a snapshot so that the next one can be derived from it: the inputs
/// that are not in the snapshot itself, and the topology as positions.
struct InventoryBuildState: Sendable {
    /// The lease marks the snapshot was built with.
    var marks: [PCIAddress: AssignmentMark]
    /// Every protected device and why (``ProtectionPolicy/protectedDevices(_:groups:)``).
    var protected: [PCIAddress: String]
    /// Positions that do not change between incremental builds.
    var topology: InventoryTopology
}

/// Device and group positions of one host's topology: which groups list a device, and which devices
/// link to a group (`iommu_group`), for finding what a changed device or `/dev/vfio/<N>` node touches.
final class InventoryTopology: Sendable {
    /// For each device position, the positions of the groups whose member lists contain it.
    let groupsOfDevice: [[Int]]
    /// Group id → positions of the devices whose `iommu_group` link names it.
    let devicesLinkingGroup: [Int: [Int]]

    init(devices: [Device], groups: [IOMMUGroup], deviceIndex: [PCIAddress: Int]) {
        var groupsOfDevice = [[Int]](repeating: [], count: devices.count)
        for (groupPosition, group) in groups.enumerated() {
            for member in group.devices {
                if let position = deviceIndex[member] { groupsOfDevice[position].append(groupPosition) }
            }
        }
        var devicesLinkingGroup: [Int: [Int]] = [:]
        for (position, device) in devices.enumerated() {
            if let group = device.facts.iommuGroup { devicesLinkingGroup[group, default: []].append(position) }
        }
        self.groupsOfDevice = groupsOfDevice
        self.devicesLinkingGroup = devicesLinkingGroup
    }
}

extension InventorySnapshot {
    /// ``changes`` when they are relative to `base` (same generation, same numbers of devices and groups),
    /// so that only their positions can differ from `base`'s; nil when everything must be compared.
    public func changes(since base: InventorySnapshot) -> InventoryChanges? {
        guard let changes, changes.baseGeneration == base.generation,
              base.devices.count == devices.count, base.groups.count == groups.count else { return nil }
        return changes
    }
}
