internal import CVFIO

/// A legacy VFIO group, `/dev/vfio/<N>`: one opener at a time (a second open gets `EBUSY`).
///
/// Close order: devices obtained from it go before it; `withDevice(_:_:)` keeps that order.
public struct VFIOGroup: ~Copyable {
    /// The IOMMU group number.
    public let groupID: Int
    /// The owned fd.
    public let descriptor: VFIOFileDescriptor

    /// Opens `<root>/dev/vfio/<groupID>` (`O_RDWR | O_CLOEXEC`).
    public init(_ groupID: Int, paths: HostPaths) throws(VFIOError) {
        self.groupID = groupID
        descriptor = try VFIOFileDescriptor.open(paths.dev("vfio/\(groupID)"))
    }

    /// `VFIO_GROUP_GET_STATUS`: whether the group is viable and attached to a container.
    ///
    /// Assumes `struct vfio_group_status { argsz; flags; }` with `argsz` set by the caller, `flags` written back.
    public func status() throws(VFIOError) -> VFIOGroupStatus {
        var status = vfio_group_status()
        status.argsz = UInt32(MemoryLayout<vfio_group_status>.size)
        _ = try descriptor.ioctl("VFIO_GROUP_GET_STATUS", CVFIO_GROUP_GET_STATUS, argument: &status)
        return VFIOGroupStatus(flags: status.flags)
    }

    /// `VFIO_GROUP_SET_CONTAINER`: attaches the group to `container`.
    ///
    /// Assumes the argument is a pointer to the container's fd as an `int32`.
    public func setContainer(_ container: borrowing VFIOContainer) throws(VFIOError) {
        var containerFD = container.descriptor.rawValue
        _ = try descriptor.ioctl("VFIO_GROUP_SET_CONTAINER", CVFIO_GROUP_SET_CONTAINER, argument: &containerFD)
    }

    /// `VFIO_GROUP_UNSET_CONTAINER`: detaches the group (`EBUSY` while device fds from it are open).
    ///
    /// Assumes the request takes no argument.
    public func unsetContainer() throws(VFIOError) {
        _ = try descriptor.ioctl("VFIO_GROUP_UNSET_CONTAINER", CVFIO_GROUP_UNSET_CONTAINER)
    }

    /// `VFIO_GROUP_GET_DEVICE_FD`: a new fd on the device `address` in this group (the kernel opens it
    /// `O_RDWR | O_CLOEXEC`). The caller must close it before this group: use `withDevice(_:_:)`.
    ///
    /// Assumes the argument is a NUL-terminated device name as sysfs spells it and the result is the new fd.
    package func deviceFD(address: PCIAddress) throws(VFIOError) -> VFIODevice {
        // The kernel reads the NUL-terminated name (as sysfs spells it) with strndup_user.
        var name = Array(address.description.utf8) + [0]
        let fd = try descriptor.ioctl("VFIO_GROUP_GET_DEVICE_FD", CVFIO_GROUP_GET_DEVICE_FD, buffer: &name)
        return VFIODevice(VFIOFileDescriptor(adopting: fd, path: descriptor.path + "#" + address.description))
    }

    /// Closes the group now; dropping it does the same at the end of its scope.
    public consuming func close() {}

    /// Opens the device `address` of this group, runs `body`, then closes the device: the device fd is
    /// always closed before the group can be, whether `body` returns or throws.
    public func withDevice<Result>(
        _ address: PCIAddress, _ body: (borrowing VFIODevice) throws -> Result
    ) throws -> Result {
        let device = try deviceFD(address: address)
        return try body(device)
    }
}

extension VFIOGroup {
    /// Opens every group in `groupIDs` and runs `body` with their raw fds, in the same order, then closes
    /// them all (last opened first), whether `body` returns or throws and also when a later open fails.
    ///
    /// For the legacy `hotReset(groupFDs:)`, which needs every group in the reset's scope held open.
    public static func withOpenGroups<Result>(
        _ groupIDs: [Int], paths: HostPaths, _ body: ([Int32]) throws -> Result
    ) throws -> Result {
        try openRemaining(groupIDs[...], paths: paths, opened: [], body)
    }

    /// Opens the first of `remaining`, recurses with the rest, closes it when the recursion unwinds.
    private static func openRemaining<Result>(
        _ remaining: ArraySlice<Int>, paths: HostPaths, opened: [Int32], _ body: ([Int32]) throws -> Result
    ) throws -> Result {
        guard let first = remaining.first else { return try body(opened) }
        let group = try VFIOGroup(first, paths: paths)
        let result = try openRemaining(remaining.dropFirst(), paths: paths, opened: opened + [group.descriptor.rawValue], body)
        // Used after the recursion so its lifetime spans it; on a throw it is destroyed while unwinding.
        group.close()
        return result
    }
}
