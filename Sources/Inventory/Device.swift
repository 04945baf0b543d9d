public import VFIOCore

/// One PCI function as the inventory presents it: the kernel's facts, names from pci.ids, and policy.
///
/// The fields live in one `SharedFields` box: copying a device costs one reference count.
public struct Device: Sendable, Hashable, CustomReflectable {
    private struct Fields: Sendable, Hashable {
        var facts: PCIDeviceFacts
        var vendorName: String?
        var deviceName: String?
        var className: String?
        var state: DeviceState
        var stateReason: String
        var vfioGroupPresent: Bool
        var assignmentID: String?
    }

    private var box: SharedFields<Fields>

    /// What sysfs says about the function.
    public var facts: PCIDeviceFacts {
        get { box.fields.facts }
        set { box.update { $0.facts = newValue } }
    }
    /// The vendor's name from pci.ids, when known.
    public var vendorName: String? {
        get { box.fields.vendorName }
        set { box.update { $0.vendorName = newValue } }
    }
    /// The device's name from pci.ids, when known.
    public var deviceName: String? {
        get { box.fields.deviceName }
        set { box.update { $0.deviceName = newValue } }
    }
    /// The most specific class name from pci.ids (prog-if, subclass or class), when known.
    public var className: String? {
        get { box.fields.className }
        set { box.update { $0.className = newValue } }
    }
    /// Where the device stands.
    public var state: DeviceState {
        get { box.fields.state }
        set { box.update { $0.state = newValue } }
    }
    /// Why it stands there, in words an operator can act on.
    public var stateReason: String {
        get { box.fields.stateReason }
        set { box.update { $0.stateReason = newValue } }
    }
    /// `/dev/vfio/<group>` exists for its group.
    public var vfioGroupPresent: Bool {
        get { box.fields.vfioGroupPresent }
        set { box.update { $0.vfioGroupPresent = newValue } }
    }
    /// The live assignment holding the device's group, if any.
    public var assignmentID: String? {
        get { box.fields.assignmentID }
        set { box.update { $0.assignmentID = newValue } }
    }

    /// The function's address.
    public var address: PCIAddress { box.fields.facts.address }

    /// Creates a device entry.
    public init(facts: PCIDeviceFacts, vendorName: String?, deviceName: String?, className: String?,
                state: DeviceState, stateReason: String, vfioGroupPresent: Bool, assignmentID: String? = nil) {
        box = SharedFields(Fields(facts: facts, vendorName: vendorName, deviceName: deviceName, className: className, state: state,
                         stateReason: stateReason, vfioGroupPresent: vfioGroupPresent, assignmentID: assignmentID))
    }

    /// The fields, so printing and test failures show them rather than the box.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "facts": facts, "vendorName": vendorName as Any, "deviceName": deviceName as Any,
            "className": className as Any, "state": state, "stateReason": stateReason,
            "vfioGroupPresent": vfioGroupPresent, "assignmentID": assignmentID as Any
        ], displayStyle: .struct)
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
public struct AssignmentMark: Sendable, Hashable {
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
