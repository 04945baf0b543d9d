#if canImport(Glibc)
import Glibc
#endif

/// The VFIO half of the real kernel: resets through the ioctl wrappers, the vendor id from `config`, VFIO
/// openers from `proc/*/fd`, and `dev/kmsg`.
extension LinuxKernel {
    /// See ``VFIOKernel/reset(_:method:groups:)``. The cdev path when the target has a `vfio-dev/vfioX` cdev
    /// and `dev/iommu` exists, else the group path; `ENODEV` when the target has no IOMMU group.
    public func reset(_ address: PCIAddress, method: ResetMethod, groups: [Int]) throws(VFIOError) -> ResetOutcome {
        let action: VFIOResetSession.Action = { (device: borrowing VFIODevice, groupFDs: [Int32]) throws(VFIOError) -> [PCIAddress] in
            switch method {
            case .function: try VFIOResetSession.functionReset(device)
            case .hot: try VFIOResetSession.hotReset(device, groupFDs: groupFDs)
            }
        }
        if let cdev = vfioCdev(of: address).flatMap(Self.cdevNumber), SysfsFiles.exists(paths.dev("iommu")) {
            let targetGroup = iommuGroup(of: address)
            let companions = method == .hot ? companionCdevs(groups: groups.filter { $0 != targetGroup }) : []
            let scope = try VFIOResetSession.withCdevPath(target: cdev, companions: companions, paths: paths, action)
            return ResetOutcome(method: method, path: .cdev, kernelScope: scope)
        }
        guard let targetGroup = iommuGroup(of: address) else {
            throw VFIOError(operation: "open", errno: .noSuchDevice, path: paths.pciDevice(address) + "/iommu_group")
        }
        let scope = try VFIOResetSession.withGroupPath(target: address, targetGroup: targetGroup, groups: groups,
                                                       paths: paths, action)
        return ResetOutcome(method: method, path: .group, kernelScope: scope)
    }

    /// See ``VFIOKernel/configVendorID(of:)``: bytes 0–1 of `config`, little endian.
    public func configVendorID(of address: PCIAddress) -> UInt16? {
        Self.vendorID(configAt: paths.pciDevice(address) + "/config")
    }

    /// See ``VFIOKernel/openers(groups:cdevs:removedCdevs:)``. The `fd` links name the kernel's paths
    /// (`/dev/vfio/7`, `/dev/vfio/devices/vfio0 (deleted)`), also when the host root is not `/`. With no
    /// cdev to ask about (a kernel without the device cdev), the kernel is asked first whether anyone
    /// holds the groups (``GroupOpenProbe``), and `proc` is scanned only when someone may.
    public func openers(groups: [Int], cdevs: [String], removedCdevs: [String]) -> [VFIOOpener] {
        if cdevs.isEmpty, removedCdevs.isEmpty, GroupOpenProbe.areUnheld(groups, paths: paths) { return [] }
        var targets: [String: String] = [:]
        for group in groups { targets["/dev/vfio/\(group)"] = "/dev/vfio/\(group)" }
        for cdev in cdevs + removedCdevs {
            targets[ProcessFDScanner.removedNodeTarget("/dev/vfio/devices/\(cdev)")] = "/dev/vfio/devices/\(cdev)"
        }
        for cdev in cdevs { targets["/dev/vfio/devices/\(cdev)"] = "/dev/vfio/devices/\(cdev)" }
        return ProcessFDScanner(procDirectory: paths.proc("")).openers(of: targets, excluding: paths.root == "/" ? getpid() : nil)
    }

    /// See ``VFIOKernel/kernelLog(mentioning:after:)``: reads `dev/kmsg`.
    public func kernelLog(mentioning address: PCIAddress, after: UInt64?) -> [KernelLogRecord] {
        KernelLogReader.records(at: paths.dev("kmsg"), containing: address.description, after: after)
    }

    /// One vfio-pci function's cdev number for each of `groups` (the first member that has one), so that
    /// binding them proves ownership of those groups to the hot reset; groups without one are left out
    /// (the kernel then reports the scope as not owned).
    func companionCdevs(groups: [Int]) -> [Int] {
        groups.compactMap { group in
            groupMembers(group).lazy.filter { self.driver(of: $0) == "vfio-pci" }
                .compactMap { self.vfioCdev(of: $0).flatMap(Self.cdevNumber) }.first
        }
    }

    /// `vfio3` → 3.
    static func cdevNumber(_ name: String) -> Int? {
        name.hasPrefix("vfio") ? Int(name.dropFirst(4)) : nil
    }

    /// The vendor id in the first two bytes of a config space file; `nil` when fewer can be read.
    package static func vendorID(configAt path: String) -> UInt16? {
        guard let bytes = try? SysfsFiles.readBytes(path, offset: 0, count: 2), bytes.count == 2 else { return nil }
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }
}
