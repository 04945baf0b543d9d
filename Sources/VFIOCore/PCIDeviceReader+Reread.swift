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
        let path: String
        if let target = try? SysfsFiles.readLink(busEntry) {
            path = SysfsFiles.resolve(link: target, in: busDirectory)
        } else {
            path = busEntry
        }
        guard path == previous.sysfsPath, !previous.notes.contains(where: { $0.hasPrefix("driver link dangles") }),
              let names = try? Set(SysfsFiles.listDirectory(path)) else { return fullRead() }
        var facts = previous
        facts.driver = nil
        if names.contains("driver"), let target = try? SysfsFiles.readLink(path + "/driver") {
            guard SysfsFiles.exists(path + "/driver") else { return fullRead() }
            facts.driver = target.split(separator: "/").last.map(String.init)
        }
        facts.driverOverride = nil
        if names.contains("driver_override"), let bytes = try? SysfsFiles.readAttribute(path + "/driver_override") {
            let override = SysfsText.trimmed(bytes)
            if !override.isEmpty, override != "(null)" { facts.driverOverride = override }
        }
        facts.vfioCdev = nil
        if names.contains("vfio-dev"), let entries = try? SysfsFiles.listDirectory(path + "/vfio-dev") {
            facts.vfioCdev = entries.filter { $0.hasPrefix("vfio") }.sorted().first
        }
        facts.numVFs = nil
        if names.contains("sriov_numvfs"), let bytes = try? SysfsFiles.readAttribute(path + "/sriov_numvfs", limit: 64) {
            facts.numVFs = SysfsText.decimal(bytes)
        }
        facts.mountedBlockDevices = mounts.below(path)
        facts.netInterfaces = []
        facts.carriesDefaultRoute = false
        if names.contains("net") {
            facts.netInterfaces = ((try? SysfsFiles.listDirectory(path + "/net")) ?? []).sorted()
            facts.carriesDefaultRoute = facts.netInterfaces.contains { defaultRoute.interfaces.contains($0) }
        }
        return facts
    }
}
