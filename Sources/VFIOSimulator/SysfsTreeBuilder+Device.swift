import VFIOCore

/// What one build accumulates across devices: mounts, routes, numbering of disks and VFIO cdevs.
struct BuildContext {
    var mountLines: [(numbers: String, mountPoint: String, device: String)] = []
    var routes: [(interface: String, isDefault: Bool)] = []
    var nextMinor: [Int: Int] = [:]
    var nextCdev = 0
    var vfioGroups: Set<Int> = []
    var ifindex = 2
}

extension SysfsTreeBuilder {
    /// Writes one function's directory, attributes and links.
    func writeDevice(_ device: DeviceSpec, host: HostSpec, directories: [PCIAddress: String],
                     context: inout BuildContext, _ writer: inout TreeWriter) throws {
        let directory = try Self.directory(of: device.address, in: directories)
        try Self.writeAttributes(device, in: directory, &writer)
        try writer.link("sys/bus/pci/devices/" + device.address.description, to: directory)
        try Self.writeBindings(device, in: directory, host: host, context: &context, &writer)
        if let sriov = device.sriov {
            try writer.file(directory + "/sriov_totalvfs", "\(sriov.totalVFs)\n")
            try writer.file(directory + "/sriov_numvfs", "\(sriov.numVFs)\n")
            let vfs = host.devices.filter { $0.physfn == device.address }.map(\.address).sorted()
            for (index, vf) in vfs.enumerated() {
                try writer.link(directory + "/virtfn\(index)", to: try Self.directory(of: vf, in: directories))
            }
        }
        if let physfn = device.physfn, let pfDirectory = directories[physfn] {
            try writer.link(directory + "/physfn", to: pfDirectory)
        }
        for disk in device.blockDevices {
            try writeBlockDevice(disk, below: directory, context: &context, &writer)
        }
        for interface in device.netInterfaces {
            try writer.file(directory + "/net/" + interface.name + "/ifindex", "\(context.ifindex)\n")
            context.ifindex += 1
            try writer.link("sys/class/net/" + interface.name, to: directory + "/net/" + interface.name)
            context.routes.append((interface.name, interface.defaultRoute))
        }
    }

    /// The function's directory below `sys/devices`, as `build` laid them out.
    private static func directory(of address: PCIAddress, in directories: [PCIAddress: String]) throws -> String {
        guard let directory = directories[address] else {
            throw TopologyError("device \(address): not a device of this host")
        }
        return directory
    }

    /// The IDs, class, revision, driver_override, NUMA node, reset methods, boot_vga and config space.
    private static func writeAttributes(_ device: DeviceSpec, in directory: String, _ writer: inout TreeWriter) throws {
        try writer.directory(directory)
        try writer.file(directory + "/vendor", hex(device.vendorID, digits: 4, prefix: true) + "\n")
        try writer.file(directory + "/device", hex(device.deviceID, digits: 4, prefix: true) + "\n")
        if let value = device.subsystemVendorID {
            try writer.file(directory + "/subsystem_vendor", hex(value, digits: 4, prefix: true) + "\n")
        }
        if let value = device.subsystemDeviceID {
            try writer.file(directory + "/subsystem_device", hex(value, digits: 4, prefix: true) + "\n")
        }
        try writer.file(directory + "/class", hex(device.classCode, digits: 6, prefix: true) + "\n")
        try writer.file(directory + "/revision", hex(device.revision, digits: 2, prefix: true) + "\n")
        try writer.file(directory + "/driver_override", (device.driverOverride ?? "(null)") + "\n")
        try writer.file(directory + "/numa_node", "\(device.numaNode ?? -1)\n")
        if let methods = device.resetMethods { try writer.file(directory + "/reset_method", methods.joined(separator: " ") + "\n") }
        if device.classCode >> 16 == 0x03 { try writer.file(directory + "/boot_vga", device.bootVGA ? "1\n" : "0\n") }
        try writer.file(directory + "/config", bytes: configSpace(device))
    }

    /// The driver's links, the IOMMU group's links and `/dev/vfio/<N>`, and the VFIO cdev of a device on
    /// vfio-pci.
    private static func writeBindings(_ device: DeviceSpec, in directory: String, host: HostSpec,
                                      context: inout BuildContext, _ writer: inout TreeWriter) throws {
        let address = device.address.description
        if let driver = device.driver {
            try writeDriverDirectory(driver, &writer)
            try writer.link(directory + "/driver", to: "sys/bus/pci/drivers/" + driver)
            try writer.link("sys/bus/pci/drivers/" + driver + "/" + address, to: directory)
        }
        if host.iommu, let group = device.iommuGroup {
            let groupDirectory = "sys/kernel/iommu_groups/\(group)"
            try writer.link(directory + "/iommu_group", to: groupDirectory)
            try writer.link(groupDirectory + "/devices/" + address, to: directory)
            try writer.file(groupDirectory + "/type", "DMA\n")
            if device.driver == "vfio-pci", context.vfioGroups.insert(group).inserted {
                try writer.file("dev/vfio/\(group)", "")
            }
        }
        if device.driver == "vfio-pci", host.cdev, host.vfioPCILoaded {
            let name = "vfio\(context.nextCdev)"
            context.nextCdev += 1
            try writer.file(directory + "/vfio-dev/" + name + "/dev", "511:\(context.nextCdev - 1)\n")
            try writer.file("dev/vfio/devices/" + name, "")
        }
    }

    /// A config space image: the 64-byte header, and 4 KiB with a Device Serial Number capability at 0x100
    /// when the device has a serial number.
    static func configSpace(_ device: DeviceSpec) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: device.serialNumber == nil ? 64 : 4096)
        func put(_ value: UInt64, at offset: Int, size: Int) {
            for index in 0..<size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
        }
        put(UInt64(device.vendorID), at: 0, size: 2)
        put(UInt64(device.deviceID), at: 2, size: 2)
        put(UInt64(device.revision), at: 8, size: 1)
        put(UInt64(device.classCode), at: 9, size: 3)
        bytes[0x0e] = device.isBridge ? 0x01 : 0x00
        if let serial = device.serialNumber {
            put(0x0003 | 1 << 16, at: 0x100, size: 4)  // DSN, version 1, no next capability
            put(serial & 0xffff_ffff, at: 0x104, size: 4)
            put(serial >> 32, at: 0x108, size: 4)
        }
        return bytes
    }
}
