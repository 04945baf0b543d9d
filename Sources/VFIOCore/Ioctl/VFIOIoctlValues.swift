internal import CVFIO

/// What `VFIO_GROUP_GET_STATUS` says about a group.
public struct VFIOGroupStatus: Hashable, Sendable {
    /// `VFIO_GROUP_FLAGS_VIABLE`: every member is unbound or bound to a driver that lets userspace own DMA.
    public let viable: Bool
    /// `VFIO_GROUP_FLAGS_CONTAINER_SET`: the group is attached to a container.
    public let containerSet: Bool

    /// Decodes the kernel's `flags` word.
    public init(flags: UInt32) {
        viable = flags & CVFIO_GROUP_FLAGS_VIABLE != 0
        containerSet = flags & CVFIO_GROUP_FLAGS_CONTAINER_SET != 0
    }
}

/// What `VFIO_DEVICE_GET_INFO` says about a device.
public struct VFIODeviceInfo: Hashable, Sendable {
    /// The raw `VFIO_DEVICE_FLAGS_*` word.
    public let flags: UInt32
    /// The number of regions (BARs, ROM, config space …).
    public let regionCount: UInt32
    /// The number of IRQ indexes (INTx, MSI, MSI-X, ERR, REQ for PCI).
    public let irqCount: UInt32

    /// Creates the info from the kernel's fields.
    public init(flags: UInt32, regionCount: UInt32, irqCount: UInt32) {
        self.flags = flags
        self.regionCount = regionCount
        self.irqCount = irqCount
    }

    /// `VFIO_DEVICE_FLAGS_RESET`: `VFIO_DEVICE_RESET` (function-level reset) is supported.
    public var supportsReset: Bool { flags & CVFIO_DEVICE_FLAGS_RESET != 0 }
    /// `VFIO_DEVICE_FLAGS_PCI`: a vfio-pci device.
    public var isPCI: Bool { flags & CVFIO_DEVICE_FLAGS_PCI != 0 }
}

/// The vfio-pci IRQ indexes vfiod uses.
public enum VFIOPCIIRQIndex {
    /// `VFIO_PCI_INTX_IRQ_INDEX`.
    public static var intx: UInt32 { CVFIO_PCI_INTX_IRQ_INDEX }
    /// `VFIO_PCI_ERR_IRQ_INDEX`: AER errors.
    public static var error: UInt32 { CVFIO_PCI_ERR_IRQ_INDEX }
    /// `VFIO_PCI_REQ_IRQ_INDEX`: the kernel asks the opener to release the device (cooperative unbind).
    public static var request: UInt32 { CVFIO_PCI_REQ_IRQ_INDEX }
}

/// An IOMMU backend for `VFIO_SET_IOMMU` / `VFIO_CHECK_EXTENSION`.
public struct VFIOIOMMUType: RawRepresentable, Hashable, Sendable {
    /// The kernel's `VFIO_*_IOMMU` value.
    public let rawValue: UInt32
    /// Wraps a kernel value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VFIO_TYPE1v2_IOMMU`, the x86 backend QEMU uses.
    public static var type1v2: VFIOIOMMUType { VFIOIOMMUType(rawValue: CVFIO_TYPE1v2_IOMMU) }
}
