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
    /// Listings of the IOMMU groups' `devices/`, reused while unchanged.
    let groupListings: DirectoryListingCache
    /// The test hook called before each step of a change.
    let interruption: TreeInterruption
    /// `<root>/`: what every path inside the tree begins with.
    let rootPrefix: String
    /// The root's directory fd, for the `*at` calls of changes and their reads.
    let rootDirectory: TreeRootDirectory
    /// `sys/bus/pci/devices`, where the devices' bus entries are, when its path is normalised (no
    /// `.`, `..` or empty component: ``resolve(busEntryLink:)`` may then fold a link's `..` by hand).
    let normalizedBusDirectory: String?

    init(root: String, groupListings: DirectoryListingCache = DirectoryListingCache(),
         interruption: TreeInterruption = TreeInterruption()) {
        self.root = root
        paths = HostPaths(root: root)
        queries = SysfsQueries(paths: paths)
        self.groupListings = groupListings
        self.interruption = interruption
        rootPrefix = root + "/"
        rootDirectory = TreeRootDirectory(root: root)
        let bus = paths.sys("bus/pci/devices")
        normalizedBusDirectory = SysfsFiles.normalize(bus) == bus ? bus : nil
    }

    /// `.vfiod-simulator/unbinding`: where an unbind from vfio-pci keeps the inode of each cdev node it
    /// removed while it waits for the node's openers (relative to the root).
    static let unbindingDirectory = ".vfiod-simulator/unbinding"

    /// Before each step of a change: the interruption hook (the step's path is built only when it stops
    /// there).
    private func step(_ relative: @autoclosure () -> String) throws(KernelError) {
        try interruption.step(root + "/" + relative())
    }

    /// ``SysfsQueries/groupMembers(_:)``, with the group's `devices/` listing reused while the directory
    /// is unchanged (one `stat` instead of a listing).
    func groupMembers(_ group: Int) -> [PCIAddress] {
        if let names = groupListings.names(paths.sys("kernel/iommu_groups/\(group)/devices")) {
            return names.compactMap { PCIAddress($0) }.sorted()
        }
        return queries.groupMembers(group)
    }

    /// Every address with an entry in `sys/bus/pci/devices`, sorted.
    func allDevices() -> [PCIAddress] {
        ((try? SysfsFiles.listDirectory(paths.sys("bus/pci/devices"))) ?? []).compactMap { PCIAddress($0) }.sorted()
    }

    /// `sys/bus/pci/drivers/<name>` exists (the module is loaded).
    func driverExists(_ name: String) -> Bool {
        isDirectory(relative: "sys/bus/pci/drivers/" + name)
    }

    /// `dev/vfio/devices` exists: the kernel makes VFIO device cdevs.
    var cdevSupported: Bool { isDirectory(relative: "dev/vfio/devices") }

    /// Whether vfio-pci's probe would refuse the device: no IOMMU group, or not a normal (type 0) header
    /// — bridges (class 0x0604/0x0609) are refused by `vfio_pci_probe` with `EINVAL`.
    /// `group`: the device's `iommu_group`, as read by the caller.
    func vfioRefuses(_ address: PCIAddress, directory: String, group: Int?) -> Bool {
        if group == nil { return true }
        let classCode = (try? SysfsFiles.readAttribute(directory + "/class", limit: 64)).flatMap { SysfsText.hex($0) } ?? 0
        return classCode >> 8 == 0x0604 || classCode >> 8 == 0x0609
    }

    /// Binds the unbound device to `driver`: the driver directory (made when missing; `driverExists`: the
    /// caller has just seen it, under the lock), its `<address>` link, for vfio-pci `dev/vfio/<group>`
    /// and, with `cdev`, `vfio-dev/vfio<cdev>` and `dev/vfio/devices/vfio<cdev>`; the `driver` link last.
    /// `group`: the device's group when the caller has read it under the lock (`nil`: read it here). Every
    /// step is idempotent: a change cut short is completed by running it again.
    func attach(_ address: PCIAddress, directory: String, driver: String, cdev: Int?,
                driverExists: Bool = false, group: Int?? = nil) throws {
        var writer = makeWriter()
        let relativeDirectory = relative(directory)
        if !driverExists {
            try step("sys/bus/pci/drivers/\(driver)")
            try SysfsTreeBuilder.writeDriverDirectory(driver, &writer)
        }
        try step("sys/bus/pci/drivers/\(driver)/\(address)")
        try writer.link("sys/bus/pci/drivers/\(driver)/\(address)", to: relativeDirectory)
        if driver == "vfio-pci" {
            try removeCdev(directory: directory, entries: vfioDevEntries(directory: directory), &writer)
            if let group = group ?? queries.iommuGroup(of: address) {
                if interruption.isArmed {
                    // Counted as a step only when it is made, as the test hook expects.
                    if !queries.groupDeviceExists(group) {
                        try step("dev/vfio/\(group)")
                        try writer.file("dev/vfio/\(group)", "")
                    }
                } else {
                    try writer.fileUnlessPresent("dev/vfio/\(group)")
                }
            }
            if let cdev {
                // `vfio-dev/` is gone (just removed): make both levels without trying the file first.
                try step(relativeDirectory + "/vfio-dev")
                try writer.directory(relativeDirectory + "/vfio-dev")
                try writer.directory(relativeDirectory + "/vfio-dev/vfio\(cdev)")
                try writer.file(relativeDirectory + "/vfio-dev/vfio\(cdev)/dev", "511:\(cdev)\n")
                try step("dev/vfio/devices/vfio\(cdev)")
                try writer.file("dev/vfio/devices/vfio\(cdev)", "")
            }
        }
        try step(relativeDirectory + "/driver")
        try writer.link(relativeDirectory + "/driver", to: "sys/bus/pci/drivers/" + driver)
    }

    /// Unbinds the device from `driver`: the `driver` link first, then the driver's `<address>` link, and
    /// when leaving vfio-pci the cdev (and the inode an unbind kept of it) and — once no member of the group
    /// is on vfio-pci — `dev/vfio/<group>`. `facts`: the device's group and `vfio-dev/` entries when the
    /// caller has read them under the lock (`nil`: read them here). Idempotent, as ``attach`` is.
    func detach(_ address: PCIAddress, directory: String, driver: String, facts: VFIOFacts? = nil) throws(KernelError) {
        var writer = makeWriter()
        try step(relative(directory) + "/driver")
        let unbound = writer.removeReporting(relative(directory) + "/driver")
        try step("sys/bus/pci/drivers/\(driver)/\(address)")
        writer.remove("sys/bus/pci/drivers/\(driver)/\(address)")
        guard driver == "vfio-pci" else { return }
        let facts = facts ?? vfioFacts(address, directory: directory)
        try removeCdev(directory: directory, entries: facts.vfioDevEntries, &writer)
        for name in facts.vfioDevEntries.names where exists(relative: Self.unbindingDirectory + "/" + name) {
            try step(Self.unbindingDirectory + "/" + name)
            writer.remove(Self.unbindingDirectory + "/" + name)
        }
        if let group = facts.group, !groupHasVFIOMember(group, except: unbound ? address : nil) {
            try step("dev/vfio/\(group)")
            writer.remove("dev/vfio/\(group)")
        }
    }

    /// The start of an unbind from vfio-pci that will wait for openers (`vfio_device_del`, before the
    /// kernel's wait): the device's cdev goes from `vfio-dev/` and `dev/vfio/devices`, so nobody can open it
    /// any more, while fds already open on it stay valid (their `/proc/<pid>/fd` links read
    /// `… (deleted)`). Each node's inode is kept as `.vfiod-simulator/unbinding/<name>` (a hard link) for
    /// the simulator to tell whether it is still open; ``detach`` removes it. The group node stays.
    func unregisterCdev(directory: String, entries: Listing) throws {
        var writer = makeWriter()
        for name in entries.names where SysfsFiles.exists(paths.dev("vfio/devices/" + name)) {
            try step(Self.unbindingDirectory + "/" + name)
            try writer.directory(Self.unbindingDirectory)
            let kept = root + "/" + Self.unbindingDirectory + "/" + name
            unlink(kept)
            guard link(paths.dev("vfio/devices/" + name), kept) == 0 else {
                throw KernelError(call: "link", path: kept, errno: errno)
            }
        }
        try removeCdev(directory: directory, entries: entries, &writer)
    }

    /// The inode of cdev `name` an unbind under way keeps (`.vfiod-simulator/unbinding/<name>`, relative
    /// to the root), when it exists.
    func keptCdevRelative(_ name: String) -> String? {
        let path = Self.unbindingDirectory + "/" + name
        return exists(relative: path) ? path : nil
    }

    /// ``keptCdevRelative(_:)`` as an absolute path.
    func keptCdev(_ name: String) -> String? {
        let path = root + "/" + Self.unbindingDirectory + "/" + name
        return SysfsFiles.exists(path) ? path : nil
    }

    /// What an unbind from vfio-pci reads of a device before it changes anything: its group and the
    /// entries of its `vfio-dev/`.
    struct VFIOFacts {
        /// The `iommu_group` link's group.
        var group: Int?
        /// The `vfio-dev/` listing.
        var vfioDevEntries: Listing
    }

    /// Reads ``VFIOFacts`` of the device in `directory`; `group`: its group when the caller has just read it.
    func vfioFacts(_ address: PCIAddress, directory: String, group: Int?? = nil) -> VFIOFacts {
        VFIOFacts(group: group ?? queries.iommuGroup(of: address), vfioDevEntries: vfioDevEntries(directory: directory))
    }

    /// A directory's listing: its names, or why there are none.
    enum Listing {
        /// The directory does not exist.
        case missing
        /// The names in it (possibly none), with those the listing said are directories.
        case names([String], directories: Set<String> = [])
        /// It could not be listed for another reason.
        case unreadable

        /// The names; empty when missing or unreadable.
        var names: [String] {
            if case .names(let names, _) = self { return names }
            return []
        }
    }

    /// The device's `vfio-dev/` listing.
    func vfioDevEntries(directory: String) -> Listing {
        do {
            let listed = try listDirectoryWithTypes(relative: relative(directory) + "/vfio-dev")
            return .names(listed.names, directories: listed.directories)
        } catch where error.errno == ENOENT {
            return .missing
        } catch {
            return .unreadable
        }
    }

    /// The cdev name among `vfio-dev/` entries as ``SysfsQueries/vfioCdev(of:)`` picks it: the first
    /// `vfioN` by name whose `dev/vfio/devices/vfioN` exists.
    func cdev(among entries: Listing) -> String? {
        entries.names.filter { $0.hasPrefix("vfio") }.sorted().first { SysfsFiles.exists(paths.dev("vfio/devices/\($0)")) }
    }

    /// Whether any member of `group` is bound to vfio-pci now; `except`: a member known to be unbound
    /// (its `driver` link just removed), not read again.
    func groupHasVFIOMember(_ group: Int, except: PCIAddress? = nil) -> Bool {
        groupMembers(group).contains { $0 != except && queries.driver(of: $0) == "vfio-pci" }
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
        let writer = makeWriter()
        for name in (try? SysfsFiles.listDirectory(paths.dev("vfio"))) ?? [] where Int(name) != nil {
            writer.remove("dev/vfio/" + name)
        }
        for name in (try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? [] {
            writer.remove("dev/vfio/devices/" + name)
        }
    }

    /// Removes the device's `vfio-dev/` and the `dev/vfio/devices` nodes it names.
    func removeCdev(directory: String) throws(KernelError) {
        var writer = makeWriter()
        try removeCdev(directory: directory, entries: vfioDevEntries(directory: directory), &writer)
    }

    /// Removes `vfio-dev/`, listed as `entries`, and the `dev/vfio/devices` nodes it names.
    private func removeCdev(directory: String, entries: Listing, _ writer: inout TreeWriter) throws(KernelError) {
        switch entries {
        case .missing:
            return
        case .unreadable:
            try step(relative(directory) + "/vfio-dev")
            writer.removeTree(relative(directory) + "/vfio-dev")
        case .names(let names, let directories):
            let vfioDev = relative(directory) + "/vfio-dev"
            for name in names {
                try step("dev/vfio/devices/" + name)
                writer.remove("dev/vfio/devices/" + name)
                try step(vfioDev + "/" + name)
                writer.removeCdevDirectory(vfioDev + "/" + name, listedAsDirectory: directories.contains(name))
            }
            writer.remove(directory: vfioDev)
        }
    }

    /// `directory` (inside the root) relative to the root.
    func relative(_ directory: String) -> String {
        String(directory[directory.utf8.index(directory.utf8.startIndex, offsetBy: rootPrefix.utf8.count)...])
    }

    /// A writer whose calls are relative to the root's directory fd.
    func makeWriter() -> TreeWriter {
        TreeWriter(root: root, rootFD: rootDirectory.fd)
    }
}
