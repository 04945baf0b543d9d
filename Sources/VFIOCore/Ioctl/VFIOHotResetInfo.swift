internal import CVFIO

/// What `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` says: every function a bus/slot reset of the device would hit,
/// and how the caller can prove it owns them.
public struct VFIOHotResetInfo: Hashable, Sendable {
    /// The raw `VFIO_PCI_HOT_RESET_FLAG_*` word.
    public let flags: UInt32
    /// The functions in the reset's scope, the device itself included, in the kernel's order.
    public let devices: [VFIOHotResetDependent]

    /// Creates the info from its parts.
    public init(flags: UInt32, devices: [VFIOHotResetDependent]) {
        self.flags = flags
        self.devices = devices
    }

    /// `VFIO_PCI_HOT_RESET_FLAG_DEV_ID` (kernel ≥ 6.6, cdev path): entries carry device ids, not group ids.
    public var usesDeviceIDs: Bool { flags & CVFIO_PCI_HOT_RESET_FLAG_DEV_ID != 0 }
    /// `VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED`: the caller's iommufd owns every function in the scope, so a
    /// hot reset with a zero-length group-fd array will be accepted.
    public var allOwned: Bool { flags & CVFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED != 0 }

    /// The size of `struct vfio_pci_hot_reset_info` without its flexible array (12).
    static var headerSize: Int { MemoryLayout<vfio_pci_hot_reset_info>.size }
    /// The size of one `struct vfio_pci_dependent_device` (8).
    static var entrySize: Int { MemoryLayout<vfio_pci_dependent_device>.size }

    /// Why a buffer could not be parsed.
    public enum ParseError: Error, Hashable, Sendable {
        /// Shorter than the 12-byte header.
        case truncatedHeader(length: Int)
        /// The header's `count` needs more bytes than the buffer has.
        case truncatedEntries(count: Int, length: Int)
    }

    /// The `count` field of a header (what the kernel writes back with `ENOSPC`), without parsing entries.
    static func count(inHeader bytes: [UInt8]) throws(ParseError) -> Int {
        guard bytes.count >= headerSize else { throw .truncatedHeader(length: bytes.count) }
        return Int(load(UInt32.self, bytes, at: MemoryLayout<vfio_pci_hot_reset_info>.offset(of: \.count)!))
    }

    /// Parses a filled `struct vfio_pci_hot_reset_info` followed by `count` dependent devices, in host
    /// byte order as the kernel wrote it. Pure: no syscalls.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        let count = try Self.count(inHeader: bytes)
        guard bytes.count >= Self.headerSize + count * Self.entrySize else {
            throw .truncatedEntries(count: count, length: bytes.count)
        }
        let flags = Self.load(UInt32.self, bytes, at: MemoryLayout<vfio_pci_hot_reset_info>.offset(of: \.flags)!)
        let usesDeviceIDs = flags & CVFIO_PCI_HOT_RESET_FLAG_DEV_ID != 0
        var devices: [VFIOHotResetDependent] = []
        devices.reserveCapacity(count)
        for index in 0..<count {
            let base = Self.headerSize + index * Self.entrySize
            // group_id and (≥ 6.6) devid are a union in the first four bytes; 6.1 headers name only group_id.
            let id = Self.load(UInt32.self, bytes, at: base + MemoryLayout<vfio_pci_dependent_device>.offset(of: \.group_id)!)
            let segment = Self.load(UInt16.self, bytes, at: base + MemoryLayout<vfio_pci_dependent_device>.offset(of: \.segment)!)
            let bus = bytes[base + MemoryLayout<vfio_pci_dependent_device>.offset(of: \.bus)!]
            let devfn = bytes[base + MemoryLayout<vfio_pci_dependent_device>.offset(of: \.devfn)!]
            // devfn packs slot (5 bits) and function (3 bits), as PCI_SLOT/PCI_FUNC unpack it: always in range.
            let address = PCIAddress(domain: UInt32(segment), bus: bus, slot: devfn >> 3, function: devfn & 7)!
            devices.append(VFIOHotResetDependent(address: address, owner: .init(id: id, usesDeviceIDs: usesDeviceIDs)))
        }
        self.init(flags: flags, devices: devices)
    }

    /// Reads a `T` at `offset` of `bytes`; the caller has checked the bounds.
    private static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { raw in
            // Bounds checked by the callers; loadUnaligned because the array's storage has no alignment promise.
            raw.loadUnaligned(fromByteOffset: offset, as: T.self)
        }
    }
}

/// One function in a hot reset's scope.
public struct VFIOHotResetDependent: Hashable, Sendable {
    /// The function's address (segment, bus, devfn).
    public let address: PCIAddress
    /// How the caller can prove ownership of it.
    public let owner: Owner

    /// Creates an entry.
    public init(address: PCIAddress, owner: Owner) {
        self.address = address
        self.owner = owner
    }

    /// The first four bytes of a `vfio_pci_dependent_device`, interpreted by the header's `DEV_ID` flag.
    public enum Owner: Hashable, Sendable {
        /// Legacy path: the IOMMU group; the caller passes that group's fd to the hot reset.
        case group(UInt32)
        /// Cdev path: the device is bound to the caller's iommufd under this devid.
        case device(id: UInt32)
        /// Cdev path, `VFIO_PCI_DEVID_OWNED` (0): owned by the caller (its group is) but not bound.
        case ownedUnbound
        /// Cdev path, `VFIO_PCI_DEVID_NOT_OWNED` (-1): the caller does not own it; the reset will fail.
        case notOwned

        /// Decodes the id field.
        init(id: UInt32, usesDeviceIDs: Bool) {
            guard usesDeviceIDs else { self = .group(id); return }
            switch Int32(bitPattern: id) {
            case CVFIO_PCI_DEVID_OWNED: self = .ownedUnbound
            case CVFIO_PCI_DEVID_NOT_OWNED: self = .notOwned
            default: self = .device(id: id)
            }
        }
    }
}
