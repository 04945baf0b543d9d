/// The real Linux kernel, reached through sysfs and device nodes beneath ``HostPaths`` (`/` in production).
///
/// Reads go through ``SysfsScanner`` and ``SysfsQueries``; the writes a bind and a restore are made of
/// are in `LinuxKernel+Write.swift`. Every method blocks: call them from dedicated threads.
public final class LinuxKernel: HostKernel {
    /// `linux`.
    public let backend = "linux"
    /// Where `sys/`, `dev/`, `proc/` are.
    public let paths: HostPaths
    private let scanner: SysfsScanner
    private let queries: SysfsQueries

    /// Creates the kernel for the tree beneath `paths` (the real host by default).
    public init(paths: HostPaths = HostPaths()) {
        self.paths = paths
        self.scanner = SysfsScanner(paths: paths)
        self.queries = SysfsQueries(paths: paths)
    }

    /// Reads the whole PCI tree with ``SysfsScanner``. Blocking: call it off the cooperative pool.
    public func scan() throws -> HostScan {
        try scanner.scan()
    }

    /// The bound driver (the `driver` link's last component); `nil` when unbound.
    public func driver(of address: PCIAddress) -> String? { queries.driver(of: address) }
    /// `driver_override`; `nil` when empty or `(null)`.
    public func driverOverride(of address: PCIAddress) -> String? { queries.driverOverride(of: address) }
    /// The group of the function's `iommu_group` link.
    public func iommuGroup(of address: PCIAddress) -> Int? { queries.iommuGroup(of: address) }
    /// Every function in the group.
    public func groupMembers(_ group: Int) -> [PCIAddress] { queries.groupMembers(group) }
    /// `dev/vfio/<group>` exists.
    public func groupDeviceExists(_ group: Int) -> Bool { queries.groupDeviceExists(group) }
    /// The VFIO device cdev name from `vfio-dev/`.
    public func vfioCdev(of address: PCIAddress) -> String? { queries.vfioCdev(of: address) }
    /// `proc/sys/kernel/random/boot_id`.
    public func bootID() -> String? { queries.bootID() }

    /// The host's PCI uevents through a ``UeventMonitor``. `nil` for a tree beneath another root (the
    /// uevents would be the real host's, not the tree's) and when the netlink socket cannot be opened (a
    /// container without the family): the inventory's periodic checks alone see changes then.
    public func watchUevents(_ handler: @escaping @Sendable (UeventMessage?) -> Void) -> (@Sendable () -> Void)? {
        guard paths.root.isEmpty else { return nil }
        let monitor = UeventMonitor(handler: handler)
        guard (try? monitor.start()) != nil else { return nil }
        return { monitor.stop() }
    }
}
