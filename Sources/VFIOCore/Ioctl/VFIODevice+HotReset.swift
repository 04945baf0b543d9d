internal import CVFIO

extension VFIODevice {
    /// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`: every function a bus/slot reset of this device would reset.
    ///
    /// Variable-length: asks with room for no entries, gets `ENOSPC` and the needed count in the header,
    /// then asks again with that much room (again if the scope grew in between, e.g. a hotplug).
    /// `ENODEV`: the device cannot be hot reset (no bus or slot reset reaches it).
    public func hotResetInfo() throws(VFIOError) -> VFIOHotResetInfo {
        let name = "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"
        var capacity = 0
        while true {
            var buffer = VFIOHotResetBuffer.infoRequest(capacity: capacity)
            do throws(VFIOError) {
                // Assumes the kernel writes the header (and entries when they fit) back into the buffer,
                // and on ENOSPC still copies the header out with `count` set to the number needed.
                _ = try descriptor.ioctl(name, CVFIO_DEVICE_GET_PCI_HOT_RESET_INFO, buffer: &buffer)
            } catch where error.errno == .noSpace {
                guard let needed = try? VFIOHotResetInfo.count(inHeader: buffer), needed > capacity else { throw error }
                capacity = needed
                continue
            }
            do {
                return try VFIOHotResetInfo(parsing: buffer)
            } catch {
                // The kernel returned success with a count larger than the room it was given: not a
                // kernel this code understands.
                throw VFIOError(operation: name, errno: .ioError, path: descriptor.path)
            }
        }
    }

    /// `VFIO_DEVICE_PCI_HOT_RESET`: resets every function in `hotResetInfo()`'s scope at once.
    ///
    /// Legacy path: `groupFDs` are open fds of every group in the scope (`VFIOGroup.descriptor.rawValue`),
    /// proving ownership. Cdev path (kernel ≥ 6.6, device bound to an iommufd): an empty array, after
    /// checking `hotResetInfo().allOwned`. `EINVAL`: something in the scope is not owned or not
    /// resettable; `EBUSY`: contention; `ENOTTY` on PCIe: the link did not come back in time.
    public func hotReset(groupFDs: [Int32]) throws(VFIOError) {
        var buffer = VFIOHotResetBuffer.resetRequest(groupFDs: groupFDs)
        // Assumes the kernel only reads the buffer (header and `count` fds), and does not keep the fds.
        _ = try descriptor.ioctl("VFIO_DEVICE_PCI_HOT_RESET", CVFIO_DEVICE_PCI_HOT_RESET, buffer: &buffer)
    }
}
