/// The block devices that carry a mounted filesystem, as resolved sysfs directories.
///
/// From `proc/self/mountinfo` (major:minor → `sys/dev/block/M:m`), else from `proc/self/mounts` device names
/// (→ `sys/class/block/NAME`, `sys/block/NAME`, or the partition inside its disk). Device-mapper and md
/// devices are followed through `slaves/` to the disks beneath them, so an NVMe drive under LVM or LUKS
/// still counts as mounted.
struct MountedBlockDevices {
    /// Resolved sysfs directories of every mounted block device and everything beneath it.
    private(set) var paths: Set<String> = []
    /// What could not be resolved.
    private(set) var notes: [String] = []

    /// Reads the mount tables under `paths`.
    init(paths hostPaths: HostPaths) {
        if let mountinfo = try? SysfsFiles.readBytes(hostPaths.proc("self/mountinfo"), limit: 1 << 20) {
            for line in mountinfo.split(separator: 0x0a) {
                let fields = line.split(separator: 0x20, maxSplits: 3)
                guard fields.count >= 3 else { continue }
                // Checked on the bytes: Foundation's substring search cost more than the rest of the line.
                let colon = UInt8(ascii: ":")
                guard fields[2].contains(colon), !fields[2].starts(with: [UInt8(ascii: "0"), colon]) else { continue }  // 0:N is virtual
                let numbers = String(decoding: fields[2], as: UTF8.self)
                let link = hostPaths.sys("dev/block/\(numbers)")
                if let target = try? SysfsFiles.readLink(link) {
                    add(SysfsFiles.resolve(link: target, in: hostPaths.sys("dev/block")), hostPaths)
                }
            }
        } else if let mounts = try? SysfsFiles.readBytes(hostPaths.proc("self/mounts"), limit: 1 << 20) {
            notes.append("proc/self/mountinfo is missing; mounted block devices found by name in proc/self/mounts")
            var mapperNames: [String: String]?
            for line in mounts.split(separator: 0x0a) {
                guard let first = line.split(separator: 0x20, maxSplits: 1).first else { continue }
                let source = String(decoding: first, as: UTF8.self)
                guard source.hasPrefix("/dev/") else { continue }
                var name = String(source.dropFirst(5))
                if name.hasPrefix("mapper/") {
                    if mapperNames == nil { mapperNames = Self.deviceMapperNames(hostPaths) }
                    guard let kernelName = mapperNames?[String(name.dropFirst(7))] else {
                        notes.append("cannot resolve \(source) to a dm device"); continue
                    }
                    name = kernelName
                }
                if let path = Self.locate(name: name, hostPaths) { add(path, hostPaths) }
            }
        } else {
            notes.append("proc/self/mountinfo and proc/self/mounts are missing; mounted block devices unknown")
        }
    }

    /// Adds a block device directory and, recursively, the `slaves/` beneath it.
    private mutating func add(_ path: String, _ hostPaths: HostPaths, depth: Int = 0) {
        guard depth < 8, paths.insert(path).inserted else { return }
        guard let slaves = try? SysfsFiles.listDirectory(path + "/slaves") else { return }
        for slave in slaves {
            guard let target = try? SysfsFiles.readLink(path + "/slaves/" + slave) else { continue }
            add(SysfsFiles.resolve(link: target, in: path + "/slaves"), hostPaths, depth: depth + 1)
        }
    }

    /// The sysfs directory of block device `name` (`sda1`, `nvme0n1p2`, `dm-0`), or `nil`.
    private static func locate(name: String, _ hostPaths: HostPaths) -> String? {
        guard !name.contains("/") else { return nil }
        for directory in ["class/block", "block"] {
            let link = hostPaths.sys("\(directory)/\(name)")
            if let target = try? SysfsFiles.readLink(link) {
                return SysfsFiles.resolve(link: target, in: hostPaths.sys(directory))
            }
        }
        // A partition lives inside its disk's directory: nvme0n1p2 → nvme0n1, sda1 → sda, mmcblk0p1 → mmcblk0.
        var disk = Substring(name)
        while let last = disk.last, last.isNumber { disk.removeLast() }
        guard disk.count < name.count else { return nil }
        if disk.hasSuffix("p"), let beforeP = disk.dropLast().last, beforeP.isNumber { disk.removeLast() }
        let link = hostPaths.sys("block/\(disk)")
        guard let target = try? SysfsFiles.readLink(link) else { return nil }
        return SysfsFiles.resolve(link: target, in: hostPaths.sys("block")) + "/" + name
    }

    /// Device-mapper names (`luks-…`, `vg-root`) → kernel names (`dm-0`), from `sys/block/dm-*/dm/name`.
    private static func deviceMapperNames(_ hostPaths: HostPaths) -> [String: String] {
        var names: [String: String] = [:]
        for entry in (try? SysfsFiles.listDirectory(hostPaths.sys("block"))) ?? [] where entry.hasPrefix("dm-") {
            if let name = try? SysfsFiles.readString(hostPaths.sys("block/\(entry)/dm/name")) { names[name] = entry }
        }
        return names
    }

    /// Names of mounted block devices whose nearest PCI function is the one at `devicePath`, sorted.
    /// A bridge above an NVMe function does not count: the NVMe function does.
    func below(_ devicePath: String) -> [String] {
        let prefix = devicePath + "/"
        var names: Set<String> = []
        for path in paths where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count).split(separator: "/")
            guard let first = rest.first, PCIAddress(first) == nil, let last = rest.last else { continue }
            names.insert(String(last))
        }
        return names.sorted()
    }
}
