internal import CVFIO

/// An iommufd context, `/dev/iommu` (kernel ≥ 6.2, `CONFIG_IOMMUFD`): devices opened through their cdev
/// bind to it, and it owns the IO address spaces they attach to.
///
/// Close order: devices bound to it go before it; `withBoundDevice(cdev:paths:_:)` keeps that order.
public struct IOMMUFD: ~Copyable {
    /// The owned fd.
    public let descriptor: VFIOFileDescriptor

    /// Opens `<root>/dev/iommu` (`O_RDWR | O_CLOEXEC`).
    public init(paths: HostPaths) throws(VFIOError) {
        descriptor = try VFIOFileDescriptor.open(paths.dev("iommu"))
    }

    /// `IOMMU_IOAS_ALLOC`: a new, empty IO address space; returns its object id.
    ///
    /// Assumes `struct iommu_ioas_alloc { size; flags; out_ioas_id; }` with `size` set by the caller,
    /// `flags` 0, and the id written back.
    public func allocIOAS() throws(VFIOError) -> UInt32 {
        var request = cvfio_iommu_ioas_alloc()
        request.size = UInt32(MemoryLayout<cvfio_iommu_ioas_alloc>.size)
        _ = try descriptor.ioctl("IOMMU_IOAS_ALLOC", CVFIO_IOMMU_IOAS_ALLOC, argument: &request)
        return request.out_ioas_id
    }

    /// `IOMMU_DESTROY`: destroys the object `id` (an IOAS; `EBUSY` while a device is attached to it).
    ///
    /// Assumes `struct iommu_destroy { size; id; }`, read only.
    public func destroy(_ id: UInt32) throws(VFIOError) {
        var request = cvfio_iommu_destroy()
        request.size = UInt32(MemoryLayout<cvfio_iommu_destroy>.size)
        request.id = id
        _ = try descriptor.ioctl("IOMMU_DESTROY", CVFIO_IOMMU_DESTROY, argument: &request)
    }

    /// Opens the device cdev `vfio<number>`, binds it to this iommufd, runs `body` with the device and its
    /// devid, then closes the device (which unbinds it): the device is always closed before this iommufd.
    public func withBoundDevice<Result>(
        cdev number: Int, paths: HostPaths, _ body: (borrowing VFIODevice, UInt32) throws -> Result
    ) throws -> Result {
        let device = try VFIODevice(cdev: number, paths: paths)
        let devid = try device.bindIOMMUFD(self)
        return try body(device, devid)
    }
}
