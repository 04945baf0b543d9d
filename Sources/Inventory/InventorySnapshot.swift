public import VFIOCore
import Foundation

/// An immutable picture of the host's PCI devices and IOMMU groups at one moment.
///
/// Built from one scan; requests read it and never touch sysfs. A refresh replaces it whole.
public struct InventorySnapshot: Sendable {
    /// Increases by one with every refresh that produced this snapshot.
    public let generation: UInt64
    /// When the scan started.
    public let takenAt: Date
    /// How long the scan and build took, in seconds.
    public let scanDuration: Double
    /// Host-wide facts.
    public let host: HostFacts
    /// `linux` or `simulated`.
    public let backend: String
    /// Every device, sorted by address.
    public let devices: [Device]
    /// Every group, sorted by id.
    public let groups: [IOMMUGroup]
    /// What the tree did not tell, tree-wide.
    public let notes: [String]
    /// What changed against the previous generation, when this snapshot was derived from it; `nil` when
    /// anything may have changed (full scans).
    public let changes: InventoryChanges?
    /// How many devices are in each state.
    public let stateCounts: [DeviceState: Int]

    private let deviceIndex: [PCIAddress: Int]
    private let groupIndex: [Int: Int]
    /// What the builder needs to derive the next snapshot from this one; `nil` for a snapshot made with
    /// the public initialiser.
    let buildState: InventoryBuildState?

    /// Creates a snapshot; devices and groups are sorted here.
    public init(generation: UInt64, takenAt: Date, scanDuration: Double, host: HostFacts, backend: String,
                devices: [Device], groups: [IOMMUGroup], notes: [String]) {
        let devices = devices.sorted { $0.address < $1.address }
        let groups = groups.sorted { $0.id < $1.id }
        self.init(generation: generation, takenAt: takenAt, scanDuration: scanDuration, host: host, backend: backend,
                  sortedDevices: devices, sortedGroups: groups, notes: notes,
                  deviceIndex: Dictionary(uniqueKeysWithValues: devices.enumerated().map { ($1.address, $0) }),
                  groupIndex: Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($1.id, $0) }),
                  stateCounts: Self.count(devices), changes: nil, buildState: nil)
    }

    /// Creates a snapshot from devices sorted by address and groups sorted by id, with their position
    /// indexes and state counts already made (the builder's fast path: nothing is sorted or counted here).
    init(generation: UInt64, takenAt: Date, scanDuration: Double, host: HostFacts, backend: String,
         sortedDevices: [Device], sortedGroups: [IOMMUGroup], notes: [String], deviceIndex: [PCIAddress: Int],
         groupIndex: [Int: Int], stateCounts: [DeviceState: Int], changes: InventoryChanges?, buildState: InventoryBuildState?) {
        self.generation = generation
        self.takenAt = takenAt
        self.scanDuration = scanDuration
        self.host = host
        self.backend = backend
        self.devices = sortedDevices
        self.groups = sortedGroups
        self.notes = notes
        self.deviceIndex = deviceIndex
        self.groupIndex = groupIndex
        self.stateCounts = stateCounts
        self.changes = changes
        self.buildState = buildState
    }

    /// The position index of `devices` (address → position), for a snapshot derived from this one.
    var devicePositions: [PCIAddress: Int] { deviceIndex }

    /// The position index of `groups` (id → position), for a snapshot derived from this one.
    var groupPositions: [Int: Int] { groupIndex }

    /// How many of `devices` are in each state.
    static func count(_ devices: [Device]) -> [DeviceState: Int] {
        devices.reduce(into: [:]) { $0[$1.state, default: 0] += 1 }
    }

    /// The device at `address`, if the host has it.
    public func device(_ address: PCIAddress) -> Device? {
        deviceIndex[address].map { devices[$0] }
    }

    /// The group with `id`, if the host has it.
    public func group(_ id: Int) -> IOMMUGroup? {
        groupIndex[id].map { groups[$0] }
    }

    /// The facts this snapshot was built from, as a scan: what reset planning reads (topology and
    /// `reset_method` do not change with binds), without reading sysfs again.
    public var hostScan: HostScan {
        HostScan(host: host, devices: devices.map(\.facts),
                 groups: Dictionary(groups.map { ($0.id, $0.devices) }, uniquingKeysWith: { first, _ in first }), notes: notes)
    }

    /// The position of the device at `address` in `devices`.
    public func deviceIndex(of address: PCIAddress) -> Int? { deviceIndex[address] }

    /// The position of the group `id` in `groups`.
    public func groupIndex(of id: Int) -> Int? { groupIndex[id] }

    /// The position of the first device after `address` in `devices` (keyset paging).
    public func firstDeviceIndex(after address: PCIAddress) -> Int {
        var low = 0
        var high = devices.count
        while low < high {
            let middle = (low + high) / 2
            if devices[middle].address <= address { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
