/// The kernel vfiod talks to: the real Linux one or a simulated one, behind one protocol.
///
/// Reads (`scan`, `driver(of:)` …) and the sysfs writes a bind or a restore is made of. Every write is
/// one kernel operation, so the kernel's state after each one says how far an operation got.
/// Every method blocks (a sysfs `unbind` can block forever while a process holds the device): call them
/// from dedicated threads, never from Swift's cooperative pool.
public protocol HostKernel: VFIOKernel {
    /// `linux` or `simulated`.
    var backend: String { get }
    /// Where this kernel's `sys/`, `dev/`, `proc/` are.
    var paths: HostPaths { get }
    /// Reads the whole PCI tree.
    func scan() throws -> HostScan

    /// Writes `driver` to `sys/bus/pci/devices/<address>/driver_override`, or a newline to clear it.
    func setDriverOverride(_ address: PCIAddress, to driver: String?) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers/<driver>/unbind`. May block while userspace holds it.
    func unbind(_ address: PCIAddress, from driver: String) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers_probe`: the kernel binds the override driver if one is
    /// set, else the best matching driver, else none.
    func probe(_ address: PCIAddress) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers/<driver>/bind`.
    func bind(_ address: PCIAddress, to driver: String) throws(KernelError)

    /// The driver bound now (the `driver` link's last component), `nil` when unbound.
    func driver(of address: PCIAddress) -> String?
    /// `driver_override`, `nil` when empty or `(null)`.
    func driverOverride(of address: PCIAddress) -> String?
    /// The group of the function's `iommu_group` link.
    func iommuGroup(of address: PCIAddress) -> Int?
    /// Every function in the group (`sys/kernel/iommu_groups/<group>/devices`, else the device links).
    func groupMembers(_ group: Int) -> [PCIAddress]
    /// `dev/vfio/<group>` exists.
    func groupDeviceExists(_ group: Int) -> Bool
    /// The VFIO device cdev name (`vfio3`) from `vfio-dev/`, when the kernel made one.
    func vfioCdev(of address: PCIAddress) -> String?
    /// `proc/sys/kernel/random/boot_id`.
    func bootID() -> String?

    /// Starts reporting the kernel's PCI uevents to `handler`, on a thread of the kernel's own (`nil`: the
    /// kernel dropped events, so anything may have changed). Returns what stops the reports, or `nil`
    /// when this kernel cannot report uevents (the default).
    func watchUevents(_ handler: @escaping @Sendable (UeventMessage?) -> Void) -> (@Sendable () -> Void)?
}

extension HostKernel {
    /// Re-reads `addresses` and the host-wide VFIO facts into `scan` in place and returns the addresses
    /// whose facts changed (see ``SysfsScanner/rescan(_:updating:)``): how an operation publishes what it
    /// changed without a full scan.
    public func rescan(_ addresses: [PCIAddress], updating scan: inout HostScan) -> [PCIAddress] {
        SysfsScanner(paths: paths).rescan(addresses, updating: &scan)
    }

    /// The functions whose driver differs from `scan`'s, or `nil` when functions came or went (see
    /// ``SysfsScanner/driverCheck(against:)``): the periodic check that catches what uevents missed.
    public func driverCheck(against scan: HostScan) -> [PCIAddress]? {
        SysfsScanner(paths: paths).driverCheck(against: scan)
    }

    /// No uevents: the inventory's periodic checks alone see changes.
    public func watchUevents(_ handler: @escaping @Sendable (UeventMessage?) -> Void) -> (@Sendable () -> Void)? { nil }
}
