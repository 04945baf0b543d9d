/// The ioctl sequences of one reset, on either path. Every fd is opened `O_CLOEXEC` by the wrappers and
/// closed before the call returns, devices first, then groups, then the container or iommufd.
///
/// Blocking syscalls: run on a dedicated thread.
enum VFIOResetSession {
    /// What the reset does once the target's device fd is open: gets the device and the group fds (empty on
    /// the cdev path), returns the kernel's scope.
    typealias Action = (borrowing VFIODevice, [Int32]) throws(VFIOError) -> [PCIAddress]

    /// The legacy path: opens the container, then every group of `groups` with the target's group last,
    /// each checked viable (else `EPERM`, what `VFIO_GROUP_SET_CONTAINER` answers) and attached, with
    /// `VFIO_SET_IOMMU(TYPE1v2)` after the first; then the target's device fd from its group.
    static func withGroupPath(
        target: PCIAddress, targetGroup: Int, groups: [Int], paths: HostPaths, _ action: Action
    ) throws(VFIOError) -> [PCIAddress] {
        let container = try VFIOContainer(paths: paths)
        // Each other group once, in order; the target's group comes last.
        var seen: Set<Int> = [targetGroup]
        let others = groups.filter { seen.insert($0).inserted }
        return try attach(others[...], then: targetGroup, container: container, first: true, groupFDs: [], target: target,
                          paths: paths, action)
    }

    /// Opens and attaches the first of `remaining` (with none left, `targetGroup`), recurses, and closes
    /// the group when the recursion unwinds; the device fd comes from the target's group, attached last.
    private static func attach(
        _ remaining: ArraySlice<Int>, then targetGroup: Int, container: borrowing VFIOContainer, first: Bool,
        groupFDs: [Int32], target: PCIAddress, paths: HostPaths, _ action: Action
    ) throws(VFIOError) -> [PCIAddress] {
        let group = try VFIOGroup(remaining.first ?? targetGroup, paths: paths)
        guard try group.status().viable else {
            throw VFIOError(operation: "VFIO_GROUP_SET_CONTAINER", errno: .notPermitted, path: group.descriptor.path)
        }
        try group.setContainer(container)
        if first { try container.setIOMMU(.type1v2) }
        let fds = groupFDs + [group.descriptor.rawValue]
        let scope: [PCIAddress]
        if remaining.isEmpty {
            let device = try group.deviceFD(address: target)
            scope = try action(device, fds)
            // Closed here, before its group: a group with an open device cannot leave its container.
            _ = consume device
        } else {
            scope = try attach(remaining.dropFirst(), then: targetGroup, container: container, first: false, groupFDs: fds,
                               target: target, paths: paths, action)
        }
        // Used after the recursion so its lifetime spans it; on a throw it is destroyed while unwinding.
        group.close()
        return scope
    }

    /// The cdev path: opens `/dev/iommu` and allocates an IOAS, then opens and binds (and attaches) the
    /// target's cdev and every cdev of `companions` (one vfio-pci function per other group of the scope, so
    /// the iommufd owns them all, as the kernel's hot-reset ownership check requires).
    static func withCdevPath(
        target cdev: Int, companions: [Int], paths: HostPaths, _ action: Action
    ) throws(VFIOError) -> [PCIAddress] {
        let iommufd = try IOMMUFD(paths: paths)
        let ioas = try iommufd.allocIOAS()
        return try bind(companions[...], iommufd: iommufd, ioas: ioas, target: cdev, paths: paths, action)
    }

    /// Binds the first companion, recurses, closes it on unwind; with none left binds the target and acts.
    private static func bind(
        _ remaining: ArraySlice<Int>, iommufd: borrowing IOMMUFD, ioas: UInt32, target: Int, paths: HostPaths,
        _ action: Action
    ) throws(VFIOError) -> [PCIAddress] {
        let device = try VFIODevice(cdev: remaining.first ?? target, paths: paths)
        _ = try device.bindIOMMUFD(iommufd)
        try device.attachIOAS(ioas)
        let scope: [PCIAddress]
        if remaining.isEmpty {
            scope = try action(device, [])
        } else {
            scope = try bind(remaining.dropFirst(), iommufd: iommufd, ioas: ioas, target: target, paths: paths, action)
        }
        // Closed after the recursion (closing unbinds it from the iommufd), always before the iommufd.
        _ = consume device
        return scope
    }

    /// `.function`: `VFIO_DEVICE_FLAGS_RESET` must be set (else `EINVAL`, what `VFIO_DEVICE_RESET` would
    /// answer), then `VFIO_DEVICE_RESET`. Returns no scope.
    static func functionReset(_ device: borrowing VFIODevice) throws(VFIOError) -> [PCIAddress] {
        guard try device.info().supportsReset else {
            throw VFIOError(operation: "VFIO_DEVICE_RESET", errno: .invalidArgument, path: device.descriptor.path)
        }
        try device.reset()
        return []
    }

    /// `.hot`: `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`, then `VFIO_DEVICE_PCI_HOT_RESET` with `groupFDs`; on
    /// the cdev path (`groupFDs` empty) only when the info says `DEV_ID_OWNED` (else `EINVAL` without
    /// trying). Returns the info's functions, sorted.
    static func hotReset(_ device: borrowing VFIODevice, groupFDs: [Int32]) throws(VFIOError) -> [PCIAddress] {
        let info = try device.hotResetInfo()
        if groupFDs.isEmpty && !info.allOwned {
            throw VFIOError(operation: "VFIO_DEVICE_PCI_HOT_RESET", errno: .invalidArgument, path: device.descriptor.path)
        }
        try device.hotReset(groupFDs: groupFDs)
        return info.devices.map(\.address).sorted()
    }
}
