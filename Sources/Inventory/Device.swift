public import VFIOCore

/// One PCI function as the inventory presents it: the kernel's facts, names from pci.ids, and policy.
public struct Device: Sendable, Hashable {
    /// What sysfs says about the function.
    public var facts: PCIDeviceFacts
    /// The vendor's name from pci.ids, when known.
    public var vendorName: String?
    /// The device's name from pci.ids, when known.
    public var deviceName: String?
    /// The most specific class name from pci.ids (prog-if, subclass or class), when known.
    public var className: String?
    /// Where the device stands.
    public var state: DeviceState
    /// Why it stands there, in words an operator can act on.
    public var stateReason: String
    /// `/dev/vfio/<group>` exists for its group.
    public var vfioGroupPresent: Bool
    /// The live assignment holding the device's group, if any.
    public var assignmentID: String?

    /// The function's address.
    public var address: PCIAddress { facts.address }

    /// Creates a device entry.
    public init(facts: PCIDeviceFacts, vendorName: String?, deviceName: String?, className: String?,
                state: DeviceState, stateReason: String, vfioGroupPresent: Bool, assignmentID: String? = nil) {
        self.facts = facts
        self.vendorName = vendorName
        self.deviceName = deviceName
        self.className = className
        self.state = state
        self.stateReason = stateReason
        self.vfioGroupPresent = vfioGroupPresent
        self.assignmentID = assignmentID
    }
}

/// Names for PCI ids: implemented over pci.ids by the app, empty when the database is absent.
public protocol PCINameLookup: Sendable {
    /// The vendor's name.
    func vendorName(_ vendor: UInt16) -> String?
    /// The device's name within its vendor.
    func deviceName(vendor: UInt16, device: UInt16) -> String?
    /// The most specific name of a 24-bit class code.
    func className(_ classCode: UInt32) -> String?
}

/// A lookup that knows no names: ids only.
public struct NoPCINames: PCINameLookup {
    /// Creates the empty lookup.
    public init() {}
    /// Always `nil`.
    public func vendorName(_ vendor: UInt16) -> String? { nil }
    /// Always `nil`.
    public func deviceName(vendor: UInt16, device: UInt16) -> String? { nil }
    /// Always `nil`.
    public func className(_ classCode: UInt32) -> String? { nil }
}

/// A mark vfiod's own records put on a device: a live lease (which assignment holds it and the state that
/// gives the device) or a quarantine (and why).
public struct LeaseMark: Sendable, Hashable {
    /// The assignment; `nil` for a quarantine outside any live lease.
    public var assignmentID: String?
    /// `binding`, `assigned`, `releasing` or `quarantined`.
    public var state: DeviceState
    /// Why, for a quarantine.
    public var reason: String?

    /// Creates a mark.
    public init(assignmentID: String?, state: DeviceState, reason: String? = nil) {
        self.assignmentID = assignmentID
        self.state = state
        self.reason = reason
    }
}
