/// Single-fact reads of a sysfs tree beneath a ``HostPaths`` root: the small questions a bind or a
/// restore asks between writes (which driver now, which group, is `/dev/vfio/N` there), without a scan.
///
/// Shared by ``LinuxKernel`` and the simulator, so both answer from the tree exactly alike. Nothing
/// throws: an unreadable fact is `nil` (or empty). Blocking file I/O, like every sysfs read.
public struct SysfsQueries: Sendable {
    /// Where `sys/`, `dev/`, `proc/` are.
    public let paths: HostPaths

    /// Creates queries on the tree beneath `paths`.
    public init(paths: HostPaths) {
        self.paths = paths
    }

    /// The bound driver: the last component of the `driver` link; `nil` when unbound or dangling.
    public func driver(of address: PCIAddress) -> String? {
        let link = paths.pciDevice(address) + "/driver"
        guard let target = try? SysfsFiles.readLink(link), SysfsFiles.exists(link) else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }

    /// `driver_override` without its newline; `nil` when absent, empty or `(null)`.
    public func driverOverride(of address: PCIAddress) -> String? {
        guard let text = try? SysfsFiles.readString(paths.pciDevice(address) + "/driver_override"),
              !text.isEmpty, text != "(null)" else { return nil }
        return text
    }

    /// The group number the function's `iommu_group` link names.
    public func iommuGroup(of address: PCIAddress) -> Int? {
        guard let target = try? SysfsFiles.readLink(paths.pciDevice(address) + "/iommu_group") else { return nil }
        return target.split(separator: "/").last.flatMap { Int($0) }
    }

    /// Every function of `group`, sorted: `sys/kernel/iommu_groups/<group>/devices` when the tree has
    /// it, else every device whose `iommu_group` link names the group.
    public func groupMembers(_ group: Int) -> [PCIAddress] {
        if let names = try? SysfsFiles.listDirectory(paths.sys("kernel/iommu_groups/\(group)/devices")) {
            return names.compactMap { PCIAddress($0) }.sorted()
        }
        let all = (try? SysfsFiles.listDirectory(paths.sys("bus/pci/devices"))) ?? []
        return all.compactMap { PCIAddress($0) }.filter { iommuGroup(of: $0) == group }.sorted()
    }

    /// `dev/vfio/<group>` exists.
    public func groupDeviceExists(_ group: Int) -> Bool {
        SysfsFiles.exists(paths.dev("vfio/\(group)"))
    }

    /// The VFIO device cdev name (`vfio3`) under the function's `vfio-dev/`, when `/dev/vfio/devices/vfio3`
    /// exists too (kernels without `CONFIG_VFIO_DEVICE_CDEV` have the sysfs entry but no node); `nil` else.
    public func vfioCdev(of address: PCIAddress) -> String? {
        let names = (try? SysfsFiles.listDirectory(paths.pciDevice(address) + "/vfio-dev")) ?? []
        return names.filter { $0.hasPrefix("vfio") }.sorted().first { SysfsFiles.exists(paths.dev("vfio/devices/\($0)")) }
    }

    /// `proc/sys/kernel/random/boot_id` without its newline.
    public func bootID() -> String? {
        try? SysfsFiles.readString(paths.proc("sys/kernel/random/boot_id"))
    }
}
