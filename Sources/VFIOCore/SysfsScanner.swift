#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole host's PCI tree from sysfs beneath a ``HostPaths`` root: every function under
/// `sys/bus/pci/devices`, the IOMMU groups, and the host-wide VFIO facts.
///
/// Partial trees (snapshots, containers) are read as far as they go: a missing file makes a `nil` fact and
/// a note, never a throw. Only a missing `sys/bus/pci/devices` directory throws.
public struct SysfsScanner: Sendable {
    /// Where `sys/`, `dev/` and `proc/` are.
    public let paths: HostPaths

    /// Creates a scanner for the tree beneath `paths`.
    public init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads everything. Blocking file I/O: call it off Swift's cooperative pool.
    /// Throws ``KernelError`` when `sys/bus/pci/devices` cannot be listed.
    public func scan() throws -> HostScan {
        let busDirectory = paths.sys("bus/pci/devices")
        let entries = try SysfsFiles.listDirectory(busDirectory)
        let mounts = MountedBlockDevices(paths: paths)
        let reader = PCIDeviceReader(mounts: mounts, defaultRoute: DefaultRoute(paths: paths))
        var notes = mounts.notes
        var devices: [PCIDeviceFacts] = []
        devices.reserveCapacity(entries.count)
        for entry in entries {
            guard let address = PCIAddress(entry) else {
                notes.append("ignored sys/bus/pci/devices entry \(entry.debugDescription): not a PCI address")
                continue
            }
            devices.append(reader.read(address: address, busEntry: busDirectory + "/" + entry,
                                       busDirectory: busDirectory))
        }
        devices.sort { $0.address < $1.address }
        keepOnlyCdevsWithNodes(&devices)
        let groups = readGroups(devices: devices, notes: &notes)
        var host = readHostFacts()
        host.iommuPresent = !groups.isEmpty
        return HostScan(host: host, devices: devices, groups: groups, notes: notes)
    }

    /// Re-reads what binds change of `addresses` (after vfiod bound or released them:
    /// `PCIDeviceReader.reread`) and the host-wide VFIO facts (`/dev/vfio/N` nodes come and go with binds)
    /// into `scan` in place, keeping everything else; group membership does not change with driver binds.
    /// Returns the addresses whose facts now differ from before: the re-read ones that changed, and any
    /// other device whose `vfioCdev` was dropped because its `/dev/vfio/devices` node is gone. Work grows
    /// with `addresses`, not with the host (one listing of `/dev/vfio/devices` and a walk over the devices
    /// in memory).
    public func rescan(_ addresses: [PCIAddress], updating scan: inout HostScan) -> [PCIAddress] {
        guard !addresses.isEmpty else { return [] }
        let busDirectory = paths.sys("bus/pci/devices")
        let reader = PCIDeviceReader(paths: paths)
        var changed: [PCIAddress] = []
        var reread = Set<Int>()
        for address in Set(addresses) {
            guard let index = Self.position(of: address, in: scan.devices) else { continue }
            var facts = reader.reread(scan.devices[index], busEntry: busDirectory + "/\(address)", busDirectory: busDirectory)
            keepOnlyCdevWithNode(&facts)
            reread.insert(index)
            if facts != scan.devices[index] {
                scan.devices[index] = facts
                changed.append(address)
            }
        }
        // The devices not re-read keep a cdev only while its node exists, as a full scan would say.
        var nodes: Set<String>?
        for index in scan.devices.indices where scan.devices[index].vfioCdev != nil && !reread.contains(index) {
            if nodes == nil { nodes = Set((try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? []) }
            if let cdev = scan.devices[index].vfioCdev, nodes?.contains(cdev) != true {
                scan.devices[index].vfioCdev = nil
                changed.append(scan.devices[index].address)
            }
        }
        // Only the VFIO facts change with binds; the kernel release and boot id stay as scanned.
        readVFIOFacts(into: &scan.host)
        return changed
    }

    /// The position of `address` in `devices`: binary search when they are sorted (as scans make them),
    /// else a linear look.
    private static func position(of address: PCIAddress, in devices: [PCIDeviceFacts]) -> Int? {
        var low = 0
        var high = devices.count
        while low < high {
            let middle = (low + high) / 2
            if devices[middle].address < address { low = middle + 1 } else { high = middle }
        }
        if low < devices.count, devices[low].address == address { return low }
        return devices.firstIndex { $0.address == address }
    }

    /// A `vfio-dev/vfioN` entry is only a cdev when `/dev/vfio/devices/vfioN` exists: the QEMU lab found the
    /// sysfs entry on Debian's 6.12 too, whose kernel has no `CONFIG_VFIO_DEVICE_CDEV` and no node.
    private func keepOnlyCdevsWithNodes(_ devices: inout [PCIDeviceFacts]) {
        for index in devices.indices { keepOnlyCdevWithNode(&devices[index]) }
    }

    /// ``keepOnlyCdevsWithNodes(_:)`` for one function.
    private func keepOnlyCdevWithNode(_ device: inout PCIDeviceFacts) {
        if let cdev = device.vfioCdev, !SysfsFiles.exists(paths.dev("vfio/devices/\(cdev)")) {
            device.vfioCdev = nil
        }
    }

    /// Group → members: from `sys/kernel/iommu_groups/N/devices` when present, else from device links.
    private func readGroups(devices: [PCIDeviceFacts], notes: inout [String]) -> [Int: [PCIAddress]] {
        var groups: [Int: [PCIAddress]] = [:]
        if let names = try? SysfsFiles.listDirectory(paths.sys("kernel/iommu_groups")) {
            for name in names {
                guard let group = Int(name) else { continue }
                let members = (try? SysfsFiles.listDirectory(paths.sys("kernel/iommu_groups/\(name)/devices"))) ?? []
                groups[group] = members.compactMap { PCIAddress($0) }.sorted()
            }
            for device in devices {
                if let group = device.iommuGroup, groups[group]?.contains(device.address) != true {
                    notes.append("\(device.address) links to group \(group), which does not list it")
                }
            }
            return groups
        }
        for device in devices {
            if let group = device.iommuGroup { groups[group, default: []].append(device.address) }
        }
        if groups.isEmpty {
            notes.append("no IOMMU groups: sys/kernel/iommu_groups is missing and no device has an iommu_group link")
        } else {
            notes.append("sys/kernel/iommu_groups is missing; groups derived from device links")
        }
        return groups.mapValues { $0.sorted() }
    }

    /// Kernel release, boot id and the VFIO device nodes.
    private func readHostFacts() -> HostFacts {
        var host = HostFacts()
        host.kernelRelease = try? SysfsFiles.readString(paths.proc("sys/kernel/osrelease"))
        if host.kernelRelease == nil, paths.root.isEmpty {
            var names = utsname()
            // uname(2) fills fixed-size C char arrays; `release` is NUL-terminated.
            if uname(&names) == 0 {
                host.kernelRelease = withUnsafeBytes(of: names.release) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
            }
        }
        host.bootID = try? SysfsFiles.readString(paths.proc("sys/kernel/random/boot_id"))
        host.interruptRemapping = InterruptRemapping.read(paths)
        readVFIOFacts(into: &host)
        return host
    }

    /// The host facts binds change: vfio-pci loaded, iommufd, cdev support, the container and the group
    /// nodes in `/dev/vfio`.
    private func readVFIOFacts(into host: inout HostFacts) {
        host.vfioPCILoaded = SysfsFiles.isDirectory(paths.sys("bus/pci/drivers/vfio-pci"))
        host.iommufdPresent = SysfsFiles.exists(paths.dev("iommu"))
        // `/dev/vfio/devices` appears only once some device is bound to vfio-pci; before that the vfio-dev
        // class and `/dev/iommu` (the cdev needs iommufd) say the kernel has cdevs (QEMU lab, iommufd kernel).
        host.cdevSupported = SysfsFiles.isDirectory(paths.dev("vfio/devices"))
            || (host.iommufdPresent && SysfsFiles.isDirectory(paths.sys("class/vfio-dev")))
        host.vfioContainerPresent = SysfsFiles.exists(paths.dev("vfio/vfio"))
        let nodes = (try? SysfsFiles.listDirectory(paths.dev("vfio"))) ?? []
        host.vfioGroupNodes = Set(nodes.compactMap { Int($0) })
    }
}
