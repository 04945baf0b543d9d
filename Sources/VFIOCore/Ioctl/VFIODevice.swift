internal import CVFIO

/// A VFIO device fd: from `VFIOGroup.withDevice` (legacy) or from the cdev `/dev/vfio/devices/vfio<X>`.
public struct VFIODevice: ~Copyable {
    /// The owned fd.
    public let descriptor: VFIOFileDescriptor

    /// Takes ownership of a device fd.
    init(_ descriptor: consuming VFIOFileDescriptor) {
        self.descriptor = descriptor
    }

    /// Opens the device cdev `<root>/dev/vfio/devices/vfio<number>` (kernel ≥ 6.6, `CONFIG_VFIO_DEVICE_CDEV`).
    /// Until `bindIOMMUFD` succeeds the fd accepts no other ioctl.
    public init(cdev number: Int, paths: HostPaths) throws(VFIOError) {
        descriptor = try VFIOFileDescriptor.open(paths.dev("vfio/devices/vfio\(number)"))
    }

    /// `VFIO_DEVICE_GET_INFO`: flags (reset support), region and IRQ counts.
    ///
    /// Assumes `struct vfio_device_info` as the installed header has it (20 bytes on 6.1, 24 later); the
    /// kernel accepts any `argsz` ≥ 16 and fills what fits.
    public func info() throws(VFIOError) -> VFIODeviceInfo {
        var info = vfio_device_info()
        info.argsz = UInt32(MemoryLayout<vfio_device_info>.size)
        _ = try descriptor.ioctl("VFIO_DEVICE_GET_INFO", CVFIO_DEVICE_GET_INFO, argument: &info)
        return VFIODeviceInfo(flags: info.flags, regionCount: info.num_regions, irqCount: info.num_irqs)
    }

    /// `VFIO_DEVICE_RESET`: the per-function reset (FLR, PM, …), legal when `info().supportsReset`.
    ///
    /// Assumes the request takes no argument.
    public func reset() throws(VFIOError) {
        _ = try descriptor.ioctl("VFIO_DEVICE_RESET", CVFIO_DEVICE_RESET)
    }

    /// `VFIO_DEVICE_SET_IRQS` with `DATA_EVENTFD | ACTION_TRIGGER`, start 0, count 1: the kernel signals
    /// `eventfd` when vector 0 of `index` fires (for `VFIOPCIIRQIndex.request`: when someone unbinds).
    public func setIRQEventfd(index: UInt32, eventfd: Int32) throws(VFIOError) {
        try setIRQTrigger(index: index, eventfd: eventfd)
    }

    /// Builds the variable-length `struct vfio_irq_set` with one `int32` of data and sends it.
    private func setIRQTrigger(index: UInt32, eventfd: Int32) throws(VFIOError) {
        var buffer = VFIOIRQSetBuffer.eventfdTrigger(index: index, eventfd: eventfd)
        // The buffer is `argsz` bytes: the 20-byte header then the int32; the kernel copies it in.
        _ = try descriptor.ioctl("VFIO_DEVICE_SET_IRQS", CVFIO_DEVICE_SET_IRQS, buffer: &buffer)
    }
}

/// The bytes of a `struct vfio_irq_set` followed by its `data[]`, built without syscalls so it can be tested.
enum VFIOIRQSetBuffer {
    /// `argsz`, `flags = DATA_EVENTFD | ACTION_TRIGGER`, `index`, `start = 0`, `count = 1`, `data = eventfd`.
    static func eventfdTrigger(index: UInt32, eventfd: Int32) -> [UInt8] {
        let header = MemoryLayout<vfio_irq_set>.size
        var bytes = [UInt8](repeating: 0, count: header + MemoryLayout<Int32>.size)
        var set = vfio_irq_set()
        set.argsz = UInt32(bytes.count)
        set.flags = CVFIO_IRQ_SET_DATA_EVENTFD | CVFIO_IRQ_SET_ACTION_TRIGGER
        set.index = index
        set.start = 0
        set.count = 1
        bytes.withUnsafeMutableBytes { raw in
            // The header is a plain C struct; the flexible `data[]` starts right after it (no padding:
            // five u32 fields, alignment 4).
            raw.storeBytes(of: set, toByteOffset: 0, as: vfio_irq_set.self)
            raw.storeBytes(of: eventfd, toByteOffset: header, as: Int32.self)
        }
        return bytes
    }
}
