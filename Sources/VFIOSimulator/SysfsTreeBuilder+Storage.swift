import VFIOCore

extension SysfsTreeBuilder {
    /// Writes a disk below a function (`nvme/nvme0/nvme0n1` for NVMe names, else `block/<name>`), its
    /// `sys/block`, `sys/class/block` and `sys/dev/block` links, an optional dm device on top, and records
    /// the mount.
    func writeBlockDevice(_ disk: DeviceSpec.BlockDevice, below directory: String,
                          context: inout BuildContext, _ writer: inout TreeWriter) throws {
        let isNVMe = disk.name.hasPrefix("nvme")
        let major = isNVMe ? 259 : 8
        let diskDirectory: String
        if isNVMe, let n = disk.name.dropFirst(4).firstIndex(of: "n") {
            diskDirectory = directory + "/nvme/nvme" + disk.name.dropFirst(4)[..<n] + "/" + disk.name
        } else {
            diskDirectory = directory + "/block/" + disk.name
        }
        let numbers = try allocateNumbers(major: major, &context)
        try writeBlockNode(name: disk.name, directory: diskDirectory, numbers: numbers, &writer)
        var mounted = (numbers: numbers, name: disk.name)
        if let mapper = disk.deviceMapper {
            let mapperDirectory = "sys/devices/virtual/block/" + mapper
            let mapperNumbers = try allocateNumbers(major: 253, &context)
            try writeBlockNode(name: mapper, directory: mapperDirectory, numbers: mapperNumbers, &writer)
            try writer.file(mapperDirectory + "/dm/name", "sim-\(mapper)\n")
            try writer.link(mapperDirectory + "/slaves/" + disk.name, to: diskDirectory)
            try writer.link(diskDirectory + "/holders/" + mapper, to: mapperDirectory)
            mounted = (mapperNumbers, "mapper/sim-\(mapper)")
        }
        if let mountPoint = disk.mountPoint {
            context.mountLines.append((mounted.numbers, mountPoint, "/dev/" + mounted.name))
        }
    }

    private func allocateNumbers(major: Int, _ context: inout BuildContext) throws -> String {
        let minor = context.nextMinor[major, default: 0]
        context.nextMinor[major] = minor + 1
        return "\(major):\(minor)"
    }

    private func writeBlockNode(name: String, directory: String, numbers: String, _ writer: inout TreeWriter) throws {
        try writer.file(directory + "/dev", numbers + "\n")
        try writer.file(directory + "/size", "2000409264\n")
        try writer.link("sys/block/" + name, to: directory)
        try writer.link("sys/class/block/" + name, to: directory)
        try writer.link("sys/dev/block/" + numbers, to: directory)
    }

    /// `proc/self/mountinfo`, `proc/self/mounts`, `proc/net/route`.
    func writeMountsAndRoutes(_ context: BuildContext, _ writer: inout TreeWriter) throws {
        var mountinfo = "21 1 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        mountinfo += "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        var mounts = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
        for (index, line) in context.mountLines.enumerated() {
            mountinfo += "\(30 + index) 1 \(line.numbers) / \(line.mountPoint) rw,relatime shared:1 - ext4 \(line.device) rw\n"
            mounts += "\(line.device) \(line.mountPoint) ext4 rw,relatime 0 0\n"
        }
        try writer.file("proc/self/mountinfo", mountinfo)
        try writer.file("proc/self/mounts", mounts)
        var route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        for (index, entry) in context.routes.enumerated() {
            if entry.isDefault {
                route += "\(entry.interface)\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
            }
            route += "\(entry.interface)\t00\(Self.hex(index % 256, digits: 2))000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
        }
        try writer.file("proc/net/route", route)
    }
}
