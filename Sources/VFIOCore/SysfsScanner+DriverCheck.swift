/// The cheap periodic look behind uevents: which functions exist and which driver each has.
extension SysfsScanner {
    /// Lists `sys/bus/pci/devices` and every driver's directory under `sys/bus/pci/drivers` (a bound
    /// function is a link there, named by its address), and compares both with `scan`. Returns `nil` when
    /// functions came or went (only a full scan reads a new function and re-reads the groups), else the
    /// functions whose driver differs from `scan`'s (none: nothing a missed uevent would have said).
    /// A few dozen directory listings, where a `readlink` per function walked a long path each (22 ms
    /// against a few on 4,096 functions) and a full scan reads about twenty files per function. A tree
    /// without `sys/bus/pci/drivers` is checked with one `readlink` per function. Blocking file I/O: call
    /// it off Swift's cooperative pool.
    public func driverCheck(against scan: HostScan) -> [PCIAddress]? {
        let busDirectory = paths.sys("bus/pci/devices")
        guard let entries = try? SysfsFiles.listDirectory(busDirectory), entries.count == scan.devices.count else { return nil }
        var present: [PCIAddress] = []
        present.reserveCapacity(entries.count)
        for entry in entries {
            guard let address = PCIAddress(entry) else { return nil }
            present.append(address)
        }
        present.sort()
        // Scans keep their functions sorted by address.
        guard present.elementsEqual(scan.devices.lazy.map(\.address)) else { return nil }
        guard let bound = boundDrivers() else { return linkCheck(scan, busDirectory: busDirectory) }
        return scan.devices.filter { bound[$0.address] != $0.driver }.map(\.address)
    }

    /// Every bound function's driver, from the drivers' directories; `nil` when they cannot be listed.
    private func boundDrivers() -> [PCIAddress: String]? {
        let driversDirectory = paths.sys("bus/pci/drivers")
        guard let drivers = try? SysfsFiles.listDirectory(driversDirectory) else { return nil }
        var bound: [PCIAddress: String] = [:]
        for driver in drivers {
            for entry in (try? SysfsFiles.listDirectory(driversDirectory + "/" + driver)) ?? [] {
                if let address = PCIAddress(entry) { bound[address] = driver }
            }
        }
        return bound
    }

    /// The functions whose `driver` link names another driver than `scan` says.
    private func linkCheck(_ scan: HostScan, busDirectory: String) -> [PCIAddress] {
        scan.devices.filter { device in
            // The link's last component names the driver, as a full scan reads it; no link: unbound.
            let driver = (try? SysfsFiles.readLink(busDirectory + "/\(device.address)/driver"))
                .flatMap { $0.split(separator: "/").last.map(String.init) }
            return driver != device.driver
        }.map(\.address)
    }
}
