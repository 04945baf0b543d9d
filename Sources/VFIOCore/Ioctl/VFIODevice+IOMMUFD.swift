internal import CVFIO

extension VFIODevice {
    /// `VFIO_DEVICE_BIND_IOMMUFD` (kernel ≥ 6.6, cdev fds only): binds the device to `iommufd`, which
    /// takes DMA ownership of its group; returns the device's id within that iommufd.
    ///
    /// Assumes the 6.6 `struct vfio_device_bind_iommufd { argsz; flags; iommufd; out_devid; }`; later
    /// kernels append fields and accept the shorter `argsz`.
    public func bindIOMMUFD(_ iommufd: borrowing IOMMUFD) throws(VFIOError) -> UInt32 {
        var request = cvfio_device_bind_iommufd()
        request.argsz = UInt32(MemoryLayout<cvfio_device_bind_iommufd>.size)
        request.iommufd = iommufd.descriptor.rawValue
        _ = try descriptor.ioctl("VFIO_DEVICE_BIND_IOMMUFD", CVFIO_DEVICE_BIND_IOMMUFD, argument: &request)
        return request.out_devid
    }

    /// `VFIO_DEVICE_ATTACH_IOMMUFD_PT`: attaches the bound device to the IOAS (or HWPT) `ptID`.
    ///
    /// Assumes the 6.6 `struct vfio_device_attach_iommufd_pt { argsz; flags; pt_id; }`, flags 0 (no pasid).
    public func attachIOAS(_ ptID: UInt32) throws(VFIOError) {
        var request = cvfio_device_attach_iommufd_pt()
        request.argsz = UInt32(MemoryLayout<cvfio_device_attach_iommufd_pt>.size)
        request.pt_id = ptID
        _ = try descriptor.ioctl("VFIO_DEVICE_ATTACH_IOMMUFD_PT", CVFIO_DEVICE_ATTACH_IOMMUFD_PT, argument: &request)
    }

    /// `VFIO_DEVICE_DETACH_IOMMUFD_PT`: detaches the device from its IOAS.
    ///
    /// Assumes the 6.6 `struct vfio_device_detach_iommufd_pt { argsz; flags; }`, flags 0.
    public func detachIOAS() throws(VFIOError) {
        var request = cvfio_device_detach_iommufd_pt()
        request.argsz = UInt32(MemoryLayout<cvfio_device_detach_iommufd_pt>.size)
        _ = try descriptor.ioctl("VFIO_DEVICE_DETACH_IOMMUFD_PT", CVFIO_DEVICE_DETACH_IOMMUFD_PT, argument: &request)
    }
}
