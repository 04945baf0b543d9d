/// The cheap periodic look behind uevents: which functions exist and which driver each has.
extension SysfsScanner {
    /// Lists `sys/bus/pci/devices` and reads every function's `driver` link, and compares both with
    /// `scan`. Returns `nil` when functions came or went (only a full scan reads a new function and
    /// re-reads the groups), else the functions whose driver differs from `scan`'s (none: nothing a missed
    /// uevent would have said). One listing and one `readlink` per function, so a few milliseconds on a
    /// 4,096-function host where a full scan reads about twenty files per function. Blocking file I/O:
    /// call it off Swift's cooperative pool.
    public func driverCheck(against scan: HostScan) -> [PCIAddress]? {
        let busDirectory = paths.sys("bus/pci/devices")
        guard let entries = try? SysfsFiles.listDirectory(busDirectory), entries.count == scan.devices.count else { return nil }
        var known: [PCIAddress: String?] = [:]
        known.reserveCapacity(scan.devices.count)
        for device in scan.devices { known[device.address] = .some(device.driver) }
        var changed: [PCIAddress] = []
        for entry in entries {
            guard let address = PCIAddress(entry), let expected = known[address] else { return nil }
            // The link's last component names the driver, as a full scan reads it; no link: unbound.
            let driver = (try? SysfsFiles.readLink(busDirectory + "/" + entry + "/driver"))
                .flatMap { $0.split(separator: "/").last.map(String.init) }
            if driver != expected { changed.append(address) }
        }
        return changed
    }
}
