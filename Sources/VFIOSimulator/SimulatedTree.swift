#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// The file changes one bind or unbind makes in a tree laid out as the kernel lays it out: the `driver`
/// link, the driver's `<address>` link, `vfio-dev/vfioN` with `dev/vfio/devices/vfioN`, `dev/vfio/<group>`.
///
/// Works from the tree alone (topology-built or copied snapshot) and never writes outside its root: a
/// device whose `sys/bus/pci/devices` entry leads out of the root counts as absent. Not thread-safe:
/// ``SimulatedKernel`` calls it under its lock.
struct SimulatedTree: Sendable {
    /// The normalised absolute root.
    let root: String
    /// The tree's paths.
    let paths: HostPaths
    /// Single-fact reads of the tree.
    let queries: SysfsQueries

    init(root: String) {
        self.root = root
        paths = HostPaths(root: root)
        queries = SysfsQueries(paths: paths)
    }

    /// The device's resolved directory (`<root>/sys/devices/…/<address>`); `nil` when it has no bus entry
    /// or the entry leads outside the root.
    func directory(of address: PCIAddress) -> String? {
        let entry = paths.pciDevice(address)
        let resolved: String
        if let target = try? SysfsFiles.readLink(entry) {
            resolved = SysfsFiles.resolve(link: target, in: paths.sys("bus/pci/devices"))
        } else {
            resolved = entry
        }
        guard resolved.hasPrefix(root + "/"), SysfsFiles.isDirectory(resolved) else { return nil }
        return resolved
    }

    /// Every address with an entry in `sys/bus/pci/devices`, sorted.
    func allDevices() -> [PCIAddress] {
        ((try? SysfsFiles.listDirectory(paths.sys("bus/pci/devices"))) ?? []).compactMap { PCIAddress($0) }.sorted()
    }

    /// `sys/bus/pci/drivers/<name>` exists (the module is loaded).
    func driverExists(_ name: String) -> Bool {
        SysfsFiles.isDirectory(paths.sys("bus/pci/drivers/\(name)"))
    }

    /// `dev/vfio/devices` exists: the kernel makes VFIO device cdevs.
    var cdevSupported: Bool { SysfsFiles.isDirectory(paths.dev("vfio/devices")) }

    /// Whether vfio-pci's probe would refuse the device: no IOMMU group, or not a normal (type 0) header
    /// — bridges (class 0x0604/0x0609) are refused by `vfio_pci_probe` with `EINVAL`.
    func vfioRefuses(_ address: PCIAddress, directory: String) -> Bool {
        if queries.iommuGroup(of: address) == nil { return true }
        let classCode = (try? SysfsFiles.readBytes(directory + "/class", limit: 64)).flatMap { SysfsText.hex($0) } ?? 0
        return classCode >> 8 == 0x0604 || classCode >> 8 == 0x0609
    }

    /// Writes `driver_override` as the kernel shows it: `<name>\n`, or `(null)\n` when cleared.
    func writeOverride(_ driver: String?, directory: String) throws {
        var writer = TreeWriter(root: root)
        try writer.file(relative(directory) + "/driver_override", (driver ?? "(null)") + "\n")
    }

    /// Binds the unbound device to `driver`: the driver directory (made when missing), its `<address>`
    /// link, for vfio-pci `dev/vfio/<group>` and, with `cdev`, `vfio-dev/vfio<cdev>` and
    /// `dev/vfio/devices/vfio<cdev>`; the `driver` link last, as the commit point a crash leaves or not.
    func attach(_ address: PCIAddress, directory: String, driver: String, cdev: Int?) throws {
        var writer = TreeWriter(root: root)
        let relativeDirectory = relative(directory)
        try SysfsTreeBuilder.writeDriverDirectory(driver, &writer)
        try writer.link("sys/bus/pci/drivers/\(driver)/\(address)", to: relativeDirectory)
        if driver == "vfio-pci" {
            removeCdev(directory: directory, &writer)
            if let group = queries.iommuGroup(of: address), !queries.groupDeviceExists(group) {
                try writer.file("dev/vfio/\(group)", "")
            }
            if let cdev {
                try writer.file(relativeDirectory + "/vfio-dev/vfio\(cdev)/dev", "511:\(cdev)\n")
                try writer.file("dev/vfio/devices/vfio\(cdev)", "")
            }
        }
        try writer.link(relativeDirectory + "/driver", to: "sys/bus/pci/drivers/" + driver)
    }

    /// Unbinds the device from `driver`: the `driver` link first, then the driver's `<address>` link, and
    /// when leaving vfio-pci the cdev and — once no member of the group is on vfio-pci — `dev/vfio/<group>`.
    func detach(_ address: PCIAddress, directory: String, driver: String) {
        var writer = TreeWriter(root: root)
        writer.remove(relative(directory) + "/driver")
        writer.remove("sys/bus/pci/drivers/\(driver)/\(address)")
        guard driver == "vfio-pci" else { return }
        removeCdev(directory: directory, &writer)
        if let group = queries.iommuGroup(of: address), !groupHasVFIOMember(group) {
            writer.remove("dev/vfio/\(group)")
        }
    }

    /// Whether any member of `group` is bound to vfio-pci now.
    func groupHasVFIOMember(_ group: Int) -> Bool {
        queries.groupMembers(group).contains { queries.driver(of: $0) == "vfio-pci" }
    }

    /// The highest `vfioN` number in use (in `dev/vfio/devices` or any device's `vfio-dev/`), or -1.
    func highestCdevNumber() -> Int {
        var names = (try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? []
        for address in allDevices() {
            names += (try? SysfsFiles.listDirectory(paths.pciDevice(address) + "/vfio-dev")) ?? []
        }
        return names.compactMap { $0.hasPrefix("vfio") ? Int($0.dropFirst(4)) : nil }.max() ?? -1
    }

    /// Removes every `dev/vfio/<group>` and `dev/vfio/devices/vfioN` node (a reboot starts without them).
    func removeAllVFIONodes() {
        let writer = TreeWriter(root: root)
        for name in (try? SysfsFiles.listDirectory(paths.dev("vfio"))) ?? [] where Int(name) != nil {
            writer.remove("dev/vfio/" + name)
        }
        for name in (try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? [] {
            writer.remove("dev/vfio/devices/" + name)
        }
    }

    /// Removes the device's `vfio-dev/` and the `dev/vfio/devices` nodes it names.
    func removeCdev(directory: String) {
        var writer = TreeWriter(root: root)
        removeCdev(directory: directory, &writer)
    }

    /// Removes `vfio-dev/` and the `dev/vfio/devices` nodes it names.
    private func removeCdev(directory: String, _ writer: inout TreeWriter) {
        for name in (try? SysfsFiles.listDirectory(directory + "/vfio-dev")) ?? [] {
            writer.remove("dev/vfio/devices/" + name)
        }
        writer.removeTree(relative(directory) + "/vfio-dev")
    }

    /// `directory` relative to the root.
    private func relative(_ directory: String) -> String {
        String(directory.dropFirst(root.count + 1))
    }
}
