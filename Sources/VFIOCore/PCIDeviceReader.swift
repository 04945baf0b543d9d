/// Reads every fact about one PCI function from its sysfs directory.
///
/// One `readdir` of the directory says which attributes exist, so absent ones cost nothing and produce a
/// note only where their absence means something. A bad attribute never throws: the fact stays `nil`.
struct PCIDeviceReader {
    /// Host-wide context shared by every device of one scan, read when first needed.
    private let context: Context
    /// Mounted block devices.
    var mounts: MountedBlockDevices { context.mounts }
    /// Interfaces that carry a default route.
    var defaultRoute: DefaultRoute { context.defaultRoute }

    /// A reader with the host-wide context read already (a full scan reads it for every device).
    init(mounts: MountedBlockDevices, defaultRoute: DefaultRoute) {
        context = Context(paths: nil, mounts: mounts, defaultRoute: defaultRoute)
    }

    /// A reader that reads the host-wide context only when a device needs it: the route tables only for
    /// a device with network interfaces (a re-read after a bind to vfio-pci reads none).
    init(paths: HostPaths) {
        context = Context(paths: paths, mounts: nil, defaultRoute: nil)
    }

    /// The host-wide facts, each read at most once.
    private final class Context {
        let paths: HostPaths?
        private var readMounts: MountedBlockDevices?
        private var readRoute: DefaultRoute?

        init(paths: HostPaths?, mounts: MountedBlockDevices?, defaultRoute: DefaultRoute?) {
            self.paths = paths
            readMounts = mounts
            readRoute = defaultRoute
        }

        var mounts: MountedBlockDevices {
            if let readMounts { return readMounts }
            let read = MountedBlockDevices(paths: paths!)
            readMounts = read
            return read
        }

        var defaultRoute: DefaultRoute {
            if let readRoute { return readRoute }
            let read = DefaultRoute(paths: paths!)
            readRoute = read
            return read
        }
    }

    /// Reads the function at `address` whose `sys/bus/pci/devices` entry is `busEntry`.
    func read(address: PCIAddress, busEntry: String, busDirectory: String) -> PCIDeviceFacts {
        var directory = AttributeDirectory(path: Self.directory(busEntry: busEntry, busDirectory: busDirectory))
        var facts = Self.identity(address: address, in: &directory)
        if let dangling = readDriverState(SysfsPathReads(path: directory.path), names: directory.names, into: &facts) {
            directory.notes.append("driver link dangles (to \(dangling))")
        }
        Self.readPlacement(into: &facts, from: &directory)
        facts.notes = directory.notes
        return facts
    }

    /// The IDs, class and revision; a missing or bad one is noted and read as 0xffff (IDs) or 0 (class).
    private static func identity(address: PCIAddress, in directory: inout AttributeDirectory) -> PCIDeviceFacts {
        let vendor = directory.number("vendor", required: true)
        let device = directory.number("device", required: true)
        let classCode = directory.number("class", required: true)
        var facts = PCIDeviceFacts(address: address,
                                   vendorID: UInt16(truncatingIfNeeded: vendor ?? 0xffff),
                                   deviceID: UInt16(truncatingIfNeeded: device ?? 0xffff),
                                   classCode: UInt32(truncatingIfNeeded: classCode ?? 0),
                                   sysfsPath: directory.path)
        facts.subsystemVendorID = directory.number("subsystem_vendor", required: true).map { UInt16(truncatingIfNeeded: $0) }
        facts.subsystemDeviceID = directory.number("subsystem_device", required: true).map { UInt16(truncatingIfNeeded: $0) }
        facts.revision = directory.number("revision", required: true).map { UInt8(truncatingIfNeeded: $0) }
        return facts
    }

    /// Where the function sits and what it can do: IOMMU group, NUMA node, SR-IOV links, reset methods,
    /// boot VGA, bridge class and serial number.
    private static func readPlacement(into facts: inout PCIDeviceFacts, from directory: inout AttributeDirectory) {
        let names = directory.names, path = directory.path
        if names.contains("iommu_group") {
            if let group = directory.linkName("iommu_group").flatMap({ Int($0) }) {
                facts.iommuGroup = group
            } else {
                directory.notes.append("iommu_group link unreadable")
            }
        } else {
            directory.notes.append("no iommu_group link")
        }
        if let node = directory.decimal("numa_node"), node >= 0 { facts.numaNode = node }
        facts.totalVFs = directory.decimal("sriov_totalvfs")
        facts.physfn = directory.linkName("physfn").flatMap { PCIAddress($0) }
        facts.virtfns = virtualFunctions(names: names, path: path)
        if names.contains("reset_method") {
            facts.resetMethods = (directory.text("reset_method") ?? "").split(separator: " ").map(String.init)
        } else {
            directory.notes.append("no reset_method file")
        }
        facts.bootVGA = directory.decimal("boot_vga") == 1
        let baseAndSub = facts.classCode >> 8
        facts.isBridge = baseAndSub == 0x0604 || baseAndSub == 0x0609
        if names.contains("config") {
            facts.serialNumber = PCIConfigSpace.serialNumber(configPath: path + "/config")
        }
    }

    /// The device's directory in `sys/devices`. The bus entry is a relative symlink into it; folding it
    /// textually costs one readlink instead of realpath's lstat per component.
    static func directory(busEntry: String, busDirectory: String) -> String {
        guard let target = try? SysfsFiles.readLink(busEntry) else { return busEntry }
        return SysfsFiles.resolve(link: target, in: busDirectory)
    }

    /// The `virtfnN` links in N order, resolved to addresses.
    private static func virtualFunctions(names: Set<String>, path: String) -> [PCIAddress] {
        var numbered: [(Int, PCIAddress)] = []
        for name in names where name.hasPrefix("virtfn") {
            guard let index = Int(name.dropFirst(6)),
                  let target = try? SysfsFiles.readLink(path + "/" + name),
                  let last = target.split(separator: "/").last,
                  let address = PCIAddress(last) else { continue }
            numbered.append((index, address))
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// One function's sysfs directory, listed once: its attributes read by name, and notes on those whose
/// absence or bad content means something.
private struct AttributeDirectory {
    /// The directory.
    let path: String
    /// The names it holds (empty when it could not be listed).
    let names: Set<String>
    /// What was missing or unreadable, in reading order.
    var notes: [String] = []

    init(path: String) {
        self.path = path
        do {
            names = Set(try SysfsFiles.listDirectory(path))
        } catch {
            notes.append("sysfs directory unreadable: \(error)")
            names = []
        }
    }

    /// A hex attribute; a missing `required` one, a bad or unreadable one is noted.
    mutating func number(_ name: String, required: Bool) -> UInt64? {
        guard names.contains(name) else {
            if required { notes.append("no \(name) file") }
            return nil
        }
        do {
            guard let value = SysfsText.hex(try SysfsFiles.readAttribute(path + "/" + name, limit: 64)) else {
                notes.append("\(name) is not a hex number"); return nil
            }
            return value
        } catch {
            notes.append("\(name) unreadable: \(error)"); return nil
        }
    }

    /// A decimal attribute, nil when absent or bad.
    func decimal(_ name: String) -> Int? {
        guard names.contains(name), let bytes = try? SysfsFiles.readAttribute(path + "/" + name, limit: 64) else {
            return nil
        }
        return SysfsText.decimal(bytes)
    }

    /// A text attribute, trimmed; nil when absent or unreadable.
    func text(_ name: String) -> String? {
        guard names.contains(name), let bytes = try? SysfsFiles.readAttribute(path + "/" + name) else { return nil }
        return SysfsText.trimmed(bytes)
    }

    /// The last path component of a symlink's target; nil when absent or unreadable.
    func linkName(_ name: String) -> String? {
        guard names.contains(name), let target = try? SysfsFiles.readLink(path + "/" + name) else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }
}
