internal import CVFIO

/// A legacy VFIO container, `/dev/vfio/vfio`: the IOMMU context groups are attached to.
///
/// Close order: groups attached to it go before it; `withGroup(_:paths:_:)` keeps that order.
public struct VFIOContainer: ~Copyable {
    /// The owned fd.
    public let descriptor: VFIOFileDescriptor

    /// Opens `<root>/dev/vfio/vfio` (`O_RDWR | O_CLOEXEC`).
    public init(paths: HostPaths) throws(VFIOError) {
        descriptor = try VFIOFileDescriptor.open(paths.dev("vfio/vfio"))
    }

    /// `VFIO_GET_API_VERSION`: the kernel's VFIO API version (`VFIO_API_VERSION`, 0, on every kernel so far).
    ///
    /// Assumes the request takes no argument and returns the version as the ioctl result.
    public func apiVersion() throws(VFIOError) -> Int32 {
        try descriptor.ioctl("VFIO_GET_API_VERSION", CVFIO_GET_API_VERSION)
    }

    /// `VFIO_SET_IOMMU`: selects the IOMMU backend; the kernel requires at least one group attached first.
    ///
    /// Assumes the type is passed by value.
    public func setIOMMU(_ type: VFIOIOMMUType) throws(VFIOError) {
        _ = try descriptor.ioctl("VFIO_SET_IOMMU", CVFIO_SET_IOMMU, value: Int32(bitPattern: type.rawValue))
    }

    /// Opens group `groupID`, attaches it to this container, runs `body`, then detaches and closes the
    /// group: the group is always closed before this container can be.
    ///
    /// `body` may call `setIOMMU` on the container (the first attached group makes that legal).
    public func withGroup<Result>(
        _ groupID: Int, paths: HostPaths, _ body: (borrowing VFIOGroup) throws -> Result
    ) throws -> Result {
        let group = try VFIOGroup(groupID, paths: paths)
        try group.setContainer(self)
        let result: Result
        do {
            result = try body(group)
        } catch {
            // The body's error wins; closing the group detaches it anyway.
            try? group.unsetContainer()
            throw error
        }
        try group.unsetContainer()
        return result
    }
}
