import Foundation
import Inventory
import VFIOCore

/// What resetting one device would do, and whether vfiod could do it now: `GET
/// /v1/devices/{address}/reset-scope`. vfiod resets only what it owns: every device in the scope must
/// belong to the target's live assignment, be on vfio-pci (bridges aside), and no process may hold the
/// group's VFIO files (the group opens once; the opener's would make vfiod's open fail with EBUSY).
public struct ResetPreview: Sendable, Hashable {
    /// Who a device in the scope belongs to.
    public enum Owner: String, Sendable, Hashable {
        /// Lendable and not lent: vfiod does not hold it.
        case free
        /// The target's own assignment.
        case thisAssignment = "this-assignment"
        /// Another live assignment.
        case anotherAssignment = "another-assignment"
        /// Quarantined: waiting for an admin.
        case quarantined
        /// The host: outside the allowlist, protected, or a bridge vfiod never lends.
        case host
    }

    /// One device the reset would touch.
    public struct Affected: Sendable, Hashable {
        /// Its address.
        public var address: PCIAddress
        /// Its IOMMU group.
        public var iommuGroup: Int?
        /// Its driver now.
        public var driver: String?
        /// Its inventory state.
        public var state: DeviceState
        /// Who it belongs to.
        public var owner: Owner
        /// The assignment holding it, if any.
        public var assignmentID: String?
        /// A bridge (reset with its bus, never bound).
        public var isBridge: Bool
    }

    /// Why vfiod cannot reset now. A reason that names an assignment writes its id as ` (asg_…)`, so a
    /// view that must not show it can drop it.
    public struct Blocker: Sendable, Hashable {
        /// The device concerned; `nil` for the whole reset.
        public var address: PCIAddress?
        /// Why.
        public var reason: String
    }

    /// The device asked about.
    public var device: PCIAddress
    /// The method that would be used; `nil` when none can.
    public var method: ResetMethod?
    /// Why there is no method.
    public var reason: String?
    /// Every device in the scope, the target included.
    public var devices: [Affected]
    /// The target's live assignment.
    public var assignmentID: String?
    /// The IOMMU groups vfiod must own, in order.
    public var groups: [Int]
    /// Why it cannot reset now; empty when it can.
    public var blockers: [Blocker]

    /// Whether vfiod could reset now.
    public var canReset: Bool { blockers.isEmpty }

    /// Builds the preview from an inventory snapshot and the openers of the groups in scope.
    /// `openers` maps a group to the processes holding it.
    static func make(_ address: PCIAddress, method: ResetMethod?, snapshot: InventorySnapshot,
                     openers: (_ groups: [Int]) -> [VFIOOpener]) -> ResetPreview {
        let scan = snapshot.hostScan
        let plan = ResetPlanner.plan(address, method: method, in: scan)
        let target = snapshot.device(address)
        let assignmentID = target?.state == .quarantined ? nil : target?.assignmentID
        var devices: [Affected] = []
        var blockers: [Blocker] = []
        if plan.method == nil { blockers.append(Blocker(address: nil, reason: plan.unavailableReason ?? "no reset method")) }
        if target?.assignmentID == nil || target?.state == .quarantined {
            blockers.append(Blocker(address: address, reason: target?.state == .quarantined
                ? "the device is quarantined: an admin must clear it first"
                : "the device is not leased: vfiod resets only devices it holds on vfio-pci (lease it, or set resetOnRelease)"))
        } else if let target, target.state != .assigned {
            blockers.append(Blocker(address: address, reason: "its assignment (\(assignmentID ?? "?")) is \(target.state.rawValue)"))
        }
        for scoped in plan.scope {
            guard let device = snapshot.device(scoped) else { continue }
            let isBridge = InventoryBuilder.isBridgeClass(device.facts)
            let owner: Owner = if device.state == .quarantined { .quarantined }
                else if let held = device.assignmentID { held == assignmentID ? .thisAssignment : .anotherAssignment }
                else if device.state == .available { .free }
                else { .host }
            devices.append(Affected(address: scoped, iommuGroup: device.facts.iommuGroup, driver: device.facts.driver,
                                    state: device.state, owner: owner, assignmentID: device.assignmentID, isBridge: isBridge))
            switch owner {
            case .thisAssignment:
                if !isBridge, device.facts.driver != "vfio-pci" {
                    blockers.append(Blocker(address: scoped, reason: "on \(device.facts.driver ?? "no driver"), not vfio-pci"))
                }
            case .anotherAssignment:
                blockers.append(Blocker(address: scoped, reason: "held by another assignment (\(device.assignmentID ?? "?"))"))
            case .free:
                blockers.append(Blocker(address: scoped, reason: "free: vfiod does not hold it (lease its group with this one's)"))
            case .quarantined:
                blockers.append(Blocker(address: scoped, reason: "quarantined"))
            case .host:
                blockers.append(Blocker(address: scoped, reason: "belongs to the host (\(device.state.rawValue)): \(device.stateReason)"))
            }
        }
        let groups = Array(Set(devices.compactMap(\.iommuGroup))).sorted()
        if blockers.isEmpty {
            for opener in openers(groups) {
                blockers.append(Blocker(address: nil, reason: "pid \(opener.pid) (\(opener.commandLine)) holds \(opener.paths.joined(separator: ", "))"))
            }
        }
        return ResetPreview(device: address, method: plan.method, reason: plan.unavailableReason, devices: devices,
                            assignmentID: assignmentID, groups: groups, blockers: blockers)
    }
}
