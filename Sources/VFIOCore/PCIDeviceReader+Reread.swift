extension PCIDeviceReader {
    /// Re-reads only what binding or unbinding a driver changes — the `driver` link, `driver_override`,
    /// the vfio-dev cdev, network interfaces (and the default route on them), mounted block devices and
    /// the VF count — keeping the rest of `previous` (ids, class, group, reset methods, serial number:
    /// things only a hot-plug changes, which a full scan picks up). About a third of the reads of `read`.
    ///
    /// Falls back to a full `read` when the device's directory moved or the driver link dangles (the full
    /// read's notes then say so in their usual order).
    func reread(_ previous: PCIDeviceFacts, busEntry: String, busDirectory: String) -> PCIDeviceFacts {
        let fullRead = { read(address: previous.address, busEntry: busEntry, busDirectory: busDirectory) }
        let path = Self.directory(busEntry: busEntry, busDirectory: busDirectory)
        guard path == previous.sysfsPath, !previous.notes.contains(where: { $0.hasPrefix("driver link dangles") }),
              let directory = OpenSysfsDirectory(path) else { return fullRead() }
        var facts = previous
        guard readDriverState(directory, names: Set(directory.names), into: &facts) == nil else { return fullRead() }
        return facts
    }

    /// Reads what binding or unbinding a driver changes into `facts`, from the device directory `directory`
    /// whose entries are `names`: the `driver` link, `driver_override`, the VF count, the vfio-dev cdev,
    /// mounted block devices below it, its network interfaces and whether one carries the default route.
    /// Returns the target of a `driver` link that dangles (the driver is then left `nil`).
    func readDriverState(_ directory: some SysfsDirectoryReads, names: Set<String>, into facts: inout PCIDeviceFacts) -> String? {
        var dangling: String?
        facts.driver = nil
        if names.contains("driver"), let target = directory.readLink("driver"),
           let name = target.split(separator: "/").last.map(String.init) {
            if directory.exists("driver") { facts.driver = name } else { dangling = name }
        }
        facts.driverOverride = nil
        if names.contains("driver_override"), let bytes = directory.readAttribute("driver_override", limit: 4096) {
            let override = SysfsText.trimmed(bytes)
            if !override.isEmpty, override != "(null)" { facts.driverOverride = override }
        }
        facts.numVFs = nil
        if names.contains("sriov_numvfs"), let bytes = directory.readAttribute("sriov_numvfs", limit: 64) {
            facts.numVFs = SysfsText.decimal(bytes)
        }
        facts.vfioCdev = nil
        if names.contains("vfio-dev"), let entries = directory.list("vfio-dev") {
            facts.vfioCdev = entries.filter { $0.hasPrefix("vfio") }.sorted().first
        }
        facts.mountedBlockDevices = mounts.below(directory.path)
        facts.netInterfaces = []
        facts.carriesDefaultRoute = false
        if names.contains("net") {
            facts.netInterfaces = (directory.list("net") ?? []).sorted()
            facts.carriesDefaultRoute = facts.netInterfaces.contains { defaultRoute.interfaces.contains($0) }
        }
        return dangling
    }
}
