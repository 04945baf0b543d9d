public import VFIOCore

extension SysfsTreeBuilder {
    /// Moves a device to `driver` (or leaves it unbound for `nil`) the way bind/unbind change sysfs: the
    /// `driver` link and `sys/bus/pci/drivers/<name>/<address>`, and for vfio-pci the `vfio-dev/vfioN`
    /// directory, `dev/vfio/devices/vfioN` (when the cdev exists) and `dev/vfio/<group>`.
    ///
    /// Works from the tree alone, so it also applies to copied snapshots. Throws ``KernelError``.
    public func setDriver(_ driver: String?, for address: PCIAddress) throws {
        var writer = TreeWriter(root: root)
        let paths = self.paths
        let busEntry = paths.pciDevice(address)
        let target = try SysfsFiles.readLink(busEntry)
        let absolute = SysfsFiles.resolve(link: target, in: paths.sys("bus/pci/devices"))
        let directory = String(absolute.dropFirst(SysfsFiles.normalize(root).count + 1))
        let group = (try? SysfsFiles.readLink(absolute + "/iommu_group"))?.split(separator: "/").last.flatMap { Int($0) }

        if let old = (try? SysfsFiles.readLink(absolute + "/driver"))?.split(separator: "/").last.map(String.init) {
            writer.remove(directory + "/driver")
            writer.remove("sys/bus/pci/drivers/\(old)/\(address)")
            if old == "vfio-pci" {
                for name in (try? SysfsFiles.listDirectory(absolute + "/vfio-dev")) ?? [] {
                    writer.remove("dev/vfio/devices/" + name)
                }
                writer.removeTree(directory + "/vfio-dev")
                if let group, !groupHasVFIOMember(group, paths) { writer.remove("dev/vfio/\(group)") }
            }
        }
        guard let driver else { return }
        try Self.writeDriverDirectory(driver, &writer)
        try writer.link(directory + "/driver", to: "sys/bus/pci/drivers/" + driver)
        try writer.link("sys/bus/pci/drivers/\(driver)/\(address)", to: directory)
        guard driver == "vfio-pci" else { return }
        if let group { try writer.file("dev/vfio/\(group)", "") }
        if SysfsFiles.isDirectory(paths.dev("vfio/devices")) {
            let used = ((try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? [])
                .compactMap { Int($0.dropFirst(4)) }
            let index = (used.max() ?? -1) + 1
            try writer.file(directory + "/vfio-dev/vfio\(index)/dev", "511:\(index)\n")
            try writer.file("dev/vfio/devices/vfio\(index)", "")
        }
    }

    /// Whether any member of `group` is still bound to vfio-pci.
    private func groupHasVFIOMember(_ group: Int, _ paths: HostPaths) -> Bool {
        let members = (try? SysfsFiles.listDirectory(paths.sys("kernel/iommu_groups/\(group)/devices"))) ?? []
        return members.contains { member in
            let link = paths.sys("kernel/iommu_groups/\(group)/devices/\(member)/driver")
            return (try? SysfsFiles.readLink(link))?.hasSuffix("/vfio-pci") == true
        }
    }
}
