internal import CVFIO

/// The variable-length argument buffers of the two hot-reset ioctls, built without syscalls so their
/// bytes can be tested. Host byte order, as the kernel reads them.
enum VFIOHotResetBuffer {
    /// A `struct vfio_pci_hot_reset_info` with room for `capacity` dependent devices: `argsz` says how much
    /// room there is, `flags` and `count` are zero (outputs). With `capacity` 0 the kernel answers `ENOSPC`
    /// and writes the needed count into the header.
    static func infoRequest(capacity: Int) -> [UInt8] {
        let size = VFIOHotResetInfo.headerSize + capacity * VFIOHotResetInfo.entrySize
        var bytes = [UInt8](repeating: 0, count: size)
        var header = vfio_pci_hot_reset_info()
        header.argsz = UInt32(size)
        bytes.withUnsafeMutableBytes { raw in
            // The header struct is 12 bytes of u32 fields; the flexible array follows it.
            raw.storeBytes(of: header, toByteOffset: 0, as: vfio_pci_hot_reset_info.self)
        }
        return bytes
    }

    /// A `struct vfio_pci_hot_reset` carrying `groupFDs`: `argsz = 12 + 4n`, `flags = 0`, `count = n`, then
    /// the fds as `int32`. An empty array is the cdev form (kernel ≥ 6.6): ownership is proven by the
    /// device's iommufd instead.
    static func resetRequest(groupFDs: [Int32]) -> [UInt8] {
        let headerSize = MemoryLayout<vfio_pci_hot_reset>.size
        let size = headerSize + groupFDs.count * MemoryLayout<Int32>.size
        var bytes = [UInt8](repeating: 0, count: size)
        var header = vfio_pci_hot_reset()
        header.argsz = UInt32(size)
        header.count = UInt32(groupFDs.count)
        bytes.withUnsafeMutableBytes { raw in
            // Header then `__s32 group_fds[]`, no padding (all fields are 4-byte aligned).
            raw.storeBytes(of: header, toByteOffset: 0, as: vfio_pci_hot_reset.self)
            for (index, fd) in groupFDs.enumerated() {
                raw.storeBytes(of: fd, toByteOffset: headerSize + index * MemoryLayout<Int32>.size, as: Int32.self)
            }
        }
        return bytes
    }
}
