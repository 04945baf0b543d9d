public import VFIOCore
public import Foundation

extension InventoryBuilder {
    /// Builds the snapshot for `scan` by deriving it from `previous`: only the devices whose facts are in
    /// `changedFacts`, whose lease mark differs from the one `previous` was built with, or whose group's
    /// `/dev/vfio/<N>` node came or went are built again, and only the groups holding one of those. The
    /// result equals what ``build(scan:backend:generation:takenAt:scanDuration:assignments:)`` makes of the
    /// same inputs, and carries the positions that changed (``InventorySnapshot/changes``).
    ///
    /// `scan` must be the scan `previous` was built from with only `changedFacts` re-read (and the
    /// host-wide facts): same devices, same groups (``SysfsScanner/rescan(_:updating:)``). Falls back to
    /// a full build when `previous` was not made by a builder, when the device or group count differs,
    /// or when a change could move protection or group links (a changed direct protection reason,
    /// bridge class or `iommu_group`), which a bind or a release never does.
    public func build(scan: HostScan, backend: String, generation: UInt64, takenAt: Date, scanDuration: Double,
                      assignments: [PCIAddress: AssignmentMark], previous: InventorySnapshot,
                      changedFacts: [PCIAddress]) -> InventorySnapshot {
        func full() -> InventorySnapshot {
            build(scan: scan, backend: backend, generation: generation, takenAt: takenAt, scanDuration: scanDuration,
                  assignments: assignments)
        }
        guard let state = previous.buildState, previous.devices.count == scan.devices.count,
              previous.groups.count == scan.groups.count,
              let newFacts = rereadFacts(changedFacts, scan: scan, previous: previous) else { return full() }
        let positions = previous.devicePositions
        var (dirty, dirtyGroups) = Self.stalePositions(previous: previous, state: state, scan: scan, assignments: assignments)
        dirty.formUnion(newFacts.keys)

        var devices = previous.devices
        var counts = previous.stateCounts
        var changedDevices: [Int] = []
        for position in dirty.sorted() {
            let facts = newFacts[position] ?? devices[position].facts
            let rebuilt = device(facts, protectedReason: state.protected[facts.address], lease: assignments[facts.address],
                                 host: scan.host)
            guard rebuilt != devices[position] else { continue }
            Self.move(&counts, from: devices[position].state, to: rebuilt.state)
            devices[position] = rebuilt
            changedDevices.append(position)
            for group in state.topology.groupsOfDevice[position] { dirtyGroups.insert(group) }
        }
        guard let (groups, changedGroups) = rebuildGroups(dirtyGroups, previous: previous, scan: scan, devices: devices)
        else { return full() }
        return InventorySnapshot(
            generation: generation, takenAt: takenAt, scanDuration: scanDuration, host: scan.host, backend: backend,
            sortedDevices: devices, sortedGroups: groups,
            notes: HostAdvice.notes(for: scan.host, allowlist: allowlist) + scan.notes, deviceIndex: positions,
            groupIndex: previous.groupPositions, stateCounts: counts,
            changes: InventoryChanges(baseGeneration: previous.generation, devices: changedDevices, groups: changedGroups),
            buildState: InventoryBuildState(marks: assignments, protected: state.protected, topology: state.topology))
    }

    /// The re-read facts of `changed` by position in `previous`; nil when one cannot be patched in (not at
    /// its old position, or its group, bridge class or direct protection reason changed).
    private func rereadFacts(_ changed: [PCIAddress], scan: HostScan,
                             previous: InventorySnapshot) -> [Int: PCIDeviceFacts]? {
        let positions = previous.devicePositions
        var newFacts: [Int: PCIDeviceFacts] = [:]
        for address in changed {
            guard let position = positions[address], scan.devices.indices.contains(position),
                  scan.devices[position].address == address else { return nil }
            let old = previous.devices[position].facts
            let new = scan.devices[position]
            if old.iommuGroup != new.iommuGroup || Self.isBridgeClass(old) != Self.isBridgeClass(new)
                || protection.directReason(old) != protection.directReason(new) { return nil }
            newFacts[position] = new
        }
        return newFacts
    }

    /// The device positions whose lease mark changed or whose group's `/dev/vfio/<N>` node came or went,
    /// and the group positions of those nodes.
    private static func stalePositions(previous: InventorySnapshot, state: InventoryBuildState, scan: HostScan,
                                       assignments: [PCIAddress: AssignmentMark]) -> (devices: Set<Int>, groups: Set<Int>) {
        let positions = previous.devicePositions
        var dirty = Set<Int>()
        for (address, mark) in assignments where state.marks[address] != mark {
            if let position = positions[address] { dirty.insert(position) }
        }
        for address in state.marks.keys where assignments[address] == nil {
            if let position = positions[address] { dirty.insert(position) }
        }
        var dirtyGroups = Set<Int>()
        let nodesChanged = previous.host.vfioGroupNodes.symmetricDifference(scan.host.vfioGroupNodes)
        for id in nodesChanged {
            for position in state.topology.devicesLinkingGroup[id] ?? [] { dirty.insert(position) }
            if let position = previous.groupIndex(of: id) { dirtyGroups.insert(position) }
        }
        return (dirty, dirtyGroups)
    }

    /// `previous`'s groups with those at `dirty` positions built again over `devices`, and the positions
    /// that changed; nil when a group is missing from `scan`.
    private func rebuildGroups(_ dirty: Set<Int>, previous: InventorySnapshot, scan: HostScan,
                               devices: [Device]) -> (groups: [IOMMUGroup], changed: [Int])? {
        let positions = previous.devicePositions
        var groups = previous.groups
        var changedGroups: [Int] = []
        for position in dirty.sorted() {
            let id = groups[position].id
            guard let members = scan.groups[id] else { return nil }
            let rebuilt = group(id: id, members: members, host: scan.host) { positions[$0].map { devices[$0] } }
            guard rebuilt != groups[position] else { continue }
            groups[position] = rebuilt
            changedGroups.append(position)
        }
        return (groups, changedGroups)
    }

    /// Moves one device from `old` to `new` in `counts`, dropping a state whose count reaches zero (as
    /// counting from scratch would never list it).
    private static func move(_ counts: inout [DeviceState: Int], from old: DeviceState, to new: DeviceState) {
        guard old != new else { return }
        if let count = counts[old], count > 1 { counts[old] = count - 1 } else { counts[old] = nil }
        counts[new, default: 0] += 1
    }
}
