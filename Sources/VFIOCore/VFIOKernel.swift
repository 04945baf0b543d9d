/// The VFIO half of a kernel: what vfiod does through `/dev/vfio` (ioctls) and what it reads about the
/// processes that hold VFIO files. ``LinuxKernel`` maps each call to the real ioctls and files;
/// `SimulatedKernel` applies the kernel's rules to its fake tree.
///
/// Every call that opens VFIO files closes them before it returns (device fd, then groups, then container
/// or iommufd), all `O_CLOEXEC`: no VFIO fd outlives a call, so the thread that later writes an `unbind`
/// holds none. All calls block: run them on a worker thread, never on Swift's cooperative pool.
public protocol VFIOKernel: Sendable {
    /// Resets `address` (bound to vfio-pci) by `method`, proving ownership of `groups`: every IOMMU group
    /// in the reset scope, each of whose members is on vfio-pci and held by no other process.
    ///
    /// `.function` is `VFIO_DEVICE_RESET` (`EINVAL` when the device has no function reset). `.hot` is
    /// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` then `VFIO_DEVICE_PCI_HOT_RESET`: on the cdev path (device cdev
    /// bound to `/dev/iommu`, kernel ≥ 6.6) with a zero-length group array after checking
    /// `VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED`; otherwise on the group path with the fds of `groups`.
    /// `EINVAL`: something in scope is not owned; `EBUSY`: a group is open elsewhere; `ENOTTY`: the bus
    /// reset failed (a link that does not come back).
    func reset(_ address: PCIAddress, method: ResetMethod, groups: [Int]) throws(VFIOError) -> ResetOutcome

    /// The first two bytes of the function's config space (`config`): its vendor id; `0xffff` when the
    /// device does not answer; `nil` when the file cannot be read.
    func configVendorID(of address: PCIAddress) -> UInt16?

    /// Every process with an open fd on `dev/vfio/<group>` for one of `groups` or on
    /// `dev/vfio/devices/<cdev>` for one of `cdevs` (`vfio3`), found by reading the `fd` links under
    /// `proc/`. Processes that vanish while being read are skipped, and so is vfiod itself (it holds no
    /// VFIO fd between calls). An opener of a cdev whose node the kernel has removed — an unbind under way
    /// removes it before it waits — reads `/dev/vfio/devices/<cdev> (deleted)` and is found too, for
    /// `cdevs` and for `removedCdevs`; for `removedCdevs` only that way (the kernel frees a cdev's number
    /// after its last close, and a live node of that name is then another device's).
    func openers(groups: [Int], cdevs: [String], removedCdevs: [String]) -> [VFIOOpener]

    /// Kernel log records (`/dev/kmsg`) that name `address`, with a sequence number above `after`; empty
    /// when the log cannot be read (not root, no such file).
    func kernelLog(mentioning address: PCIAddress, after: UInt64?) -> [KernelLogRecord]

    /// The interval between two device requests while an unbind from vfio-pci waits for an opener
    /// (``DeviceRequestCount/kernelInterval``, 10 s, unless a simulated kernel is told otherwise).
    var deviceRequestInterval: Duration { get }
}

extension VFIOKernel {
    /// The kernel's 10 s.
    public var deviceRequestInterval: Duration { DeviceRequestCount.kernelInterval }

    /// ``openers(groups:cdevs:removedCdevs:)`` with no removed cdev.
    public func openers(groups: [Int], cdevs: [String]) -> [VFIOOpener] {
        openers(groups: groups, cdevs: cdevs, removedCdevs: [])
    }
}
