public import VFIOCore

/// An IOMMU group: the unit of isolation, so the unit vfiod lends.
public struct IOMMUGroup: Sendable, Hashable {
    /// The kernel's group number (`/sys/kernel/iommu_groups/<id>`, `/dev/vfio/<id>`).
    public var id: Int
    /// Every member function, sorted.
    public var devices: [PCIAddress]
    /// The kernel would let userspace own the group now: every member unbound or on a driver that lets
    /// userspace own DMA (vfio-pci or a vfio variant driver, pci-stub, pcieport).
    public var viable: Bool
    /// The members that keep the group from being viable, and why.
    public var blockers: [GroupBlocker]
    /// Every endpoint member is `available`, so a lease could take the whole group now.
    public var assignable: Bool
    /// Why not, when it is not (protected or host members).
    public var assignableReason: String?
    /// `/dev/vfio/<id>` exists.
    public var vfioGroupPresent: Bool

    /// Creates a group entry.
    public init(id: Int, devices: [PCIAddress], viable: Bool, blockers: [GroupBlocker], assignable: Bool,
                assignableReason: String?, vfioGroupPresent: Bool) {
        self.id = id
        self.devices = devices
        self.viable = viable
        self.blockers = blockers
        self.assignable = assignable
        self.assignableReason = assignableReason
        self.vfioGroupPresent = vfioGroupPresent
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
