import Foundation

/// Where an assignment (a lease of one IOMMU group) stands.
public enum AssignmentState: String, Sendable, CaseIterable, Hashable {
    /// Accepted; a worker is binding the group to vfio-pci.
    case binding
    /// Every endpoint is on vfio-pci and the group is usable by the holder.
    case active
    /// Being given back: vfio-pci unbinding, original drivers restoring.
    case releasing
    /// Given back; the devices are on their original drivers again.
    case released
    /// The bind failed and was undone; `failure` says why.
    case failed
    /// After a reboot or an outside change the devices were no longer on vfio-pci.
    case lost

    /// The states the one-live-assignment-per-group rule covers.
    public var isLive: Bool { self == .binding || self == .active || self == .releasing }
}

/// Who holds a lease: an orchestrator's id for the VM or container, its tenant, and optionally the Unix uid
/// that may fetch the lease's VFIO descriptors from the holder socket.
public struct Holder: Sendable, Hashable {
    /// The holder's id (a VM name, a pod uid …).
    public var id: String
    /// The tenant the holder belongs to; operators only see their own tenant's assignments.
    public var tenant: String
    /// The uid whose processes may fetch the descriptors (besides root); `nil`: root only.
    public var uid: UInt32?

    /// Creates a holder.
    public init(id: String, tenant: String, uid: UInt32? = nil) {
        self.id = id
        self.tenant = tenant
        self.uid = uid
    }
}

/// One member of a leased group and the driver it had before vfiod took it.
public struct AssignmentDevice: Sendable, Hashable {
    /// The function's address (canonical sysfs form).
    public var address: String
    /// The driver to give it back to; `nil` when it had none.
    public var originalDriver: String?
    /// Bridges stay on pcieport: vfiod records them but never binds them.
    public var isBridge: Bool

    /// Creates a member record.
    public init(address: String, originalDriver: String?, isBridge: Bool) {
        self.address = address
        self.originalDriver = originalDriver
        self.isBridge = isBridge
    }
}

/// A lease of a whole IOMMU group to a holder.
public struct Assignment: Sendable, Hashable {
    /// Time-ordered id (`asg_…`).
    public var id: String
    /// The leased group.
    public var groupID: Int
    /// Every member of the group.
    public var devices: [AssignmentDevice]
    /// Who holds it.
    public var holder: Holder
    /// Where it stands.
    public var state: AssignmentState
    /// The lease length a renewal extends by.
    public var ttlSeconds: Int
    /// When the lease runs out; past it, vfiod releases the group (audited as an expiry).
    public var expiresAt: Date
    /// Reset the devices after the holder let go, before they return to the host.
    public var resetOnRelease: Bool
    /// Fencing token: increases on every change. Also the ETag.
    public var generation: Int64
    /// When it was created.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// The token name that created it.
    public var createdBy: String
    /// Why the bind or restore failed, or why the lease was lost.
    public var failure: String?
    /// Why it was released: `requested`, `expired`, …
    public var releaseReason: String?
    /// `/dev/vfio/<group>` and, where the kernel made them, `/dev/vfio/devices/vfioN`.
    public var devicePaths: [String]
    /// How a release treats an opener that keeps the devices open.
    public var release: ReleasePolicy = .standard

    /// The endpoints: the members vfiod binds to vfio-pci.
    public var endpoints: [AssignmentDevice] { devices.filter { !$0.isBridge } }
}
