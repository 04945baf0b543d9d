/// Where a device stands for vfiod, from the operator's point of view.
///
/// This issue produces `host`, `available` and `protected`; the lease states join with the assignments work.
public enum DeviceState: String, Sendable, CaseIterable, Hashable {
    /// Outside the allowlist (or a bridge): vfiod leaves it alone.
    case host
    /// Allowlisted, not protected, not leased, on whatever driver it has now: a lease may take it.
    case available
    /// A lease is binding its group to vfio-pci.
    case binding
    /// Bound to vfio-pci under an active lease.
    case assigned
    /// A lease is giving it back to its original driver.
    case releasing
    /// A reset or restore failed; an administrator must clear it.
    case quarantined
    /// Policy forbids lending it: console GPU, storage with mounted filesystems, the default-route NIC,
    /// or a device sharing an IOMMU group with one of those.
    case `protected`
}
