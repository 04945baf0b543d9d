public import VFIOCore

/// An IOMMU group: the unit of isolation, so the unit vfiod lends.
///
/// The fields live in one `SharedFields` box: copying a group costs one reference count.
public struct IOMMUGroup: Sendable, Hashable, CustomReflectable {
    private struct Fields: Sendable, Hashable {
        var id: Int
        var devices: [PCIAddress]
        var viable: Bool
        var blockers: [GroupBlocker]
        var assignable: Bool
        var assignableReason: String?
        var vfioGroupPresent: Bool
    }

    private var box: SharedFields<Fields>

    /// The kernel's group number (`/sys/kernel/iommu_groups/<id>`, `/dev/vfio/<id>`).
    public var id: Int {
        get { box.fields.id }
        set { box.update { $0.id = newValue } }
    }
    /// Every member function, sorted.
    public var devices: [PCIAddress] {
        get { box.fields.devices }
        set { box.update { $0.devices = newValue } }
    }
    /// The kernel would let userspace own the group now: every member unbound or on a driver that lets
    /// userspace own DMA (vfio-pci or a vfio variant driver, pci-stub, pcieport).
    public var viable: Bool {
        get { box.fields.viable }
        set { box.update { $0.viable = newValue } }
    }
    /// The members that keep the group from being viable, and why.
    public var blockers: [GroupBlocker] {
        get { box.fields.blockers }
        set { box.update { $0.blockers = newValue } }
    }
    /// Every endpoint member is `available`, so a lease could take the whole group now.
    public var assignable: Bool {
        get { box.fields.assignable }
        set { box.update { $0.assignable = newValue } }
    }
    /// Why not, when it is not (protected or host members).
    public var assignableReason: String? {
        get { box.fields.assignableReason }
        set { box.update { $0.assignableReason = newValue } }
    }
    /// `/dev/vfio/<id>` exists.
    public var vfioGroupPresent: Bool {
        get { box.fields.vfioGroupPresent }
        set { box.update { $0.vfioGroupPresent = newValue } }
    }

    /// Creates a group entry.
    public init(id: Int, devices: [PCIAddress], viable: Bool, blockers: [GroupBlocker], assignable: Bool,
                assignableReason: String?, vfioGroupPresent: Bool) {
        box = SharedFields(Fields(id: id, devices: devices, viable: viable, blockers: blockers, assignable: assignable,
                         assignableReason: assignableReason, vfioGroupPresent: vfioGroupPresent))
    }

    /// The fields, so printing and test failures show them rather than the box.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "id": id, "devices": devices, "viable": viable, "blockers": blockers, "assignable": assignable,
            "assignableReason": assignableReason as Any, "vfioGroupPresent": vfioGroupPresent
        ], displayStyle: .struct)
    }
}

/// A member that keeps its group from being viable.
public struct GroupBlocker: Sendable, Hashable {
    /// The member.
    public var device: PCIAddress
    /// The driver it is bound to.
    public var driver: String
    /// Why that matters, in words.
    public var reason: String

    /// Creates a blocker.
    public init(device: PCIAddress, driver: String, reason: String) {
        self.device = device
        self.driver = driver
        self.reason = reason
    }
}

/// The kernel's viability rule for one member (drivers/vfio/group.c: `vfio_dev_driver_allowed` and
/// the unbound case): a member without a driver, or on a driver that lets userspace own DMA, is fine.
public enum Viability {
    /// Drivers that do not block a group: vfio-pci, pci-stub, and pcieport for bridges.
    public static let userspaceSafeDrivers: Set<String> = ["vfio-pci", "pci-stub", "pcieport"]

    /// Whether a member bound to `driver` (or unbound, `nil`) keeps its group viable.
    ///
    /// vfio variant drivers (`mlx5_vfio_pci`, `nvgrace_gpu_vfio_pci`, …) register through vfio-pci-core
    /// and count as vfio drivers; their names all contain `vfio`.
    public static func isSafe(driver: String?) -> Bool {
        guard let driver else { return true }
        return userspaceSafeDrivers.contains(driver) || driver.contains("vfio")
    }
}
