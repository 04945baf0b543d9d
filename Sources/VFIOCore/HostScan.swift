/// Everything the kernel tells about one PCI function, read from sysfs as it is.
///
/// Raw facts only: names from pci.ids, policy and state are the inventory's business. A field the tree
/// did not have is `nil` and, where that matters, explained in `notes`.
public struct PCIDeviceFacts: Sendable, Hashable {
    /// The function's address.
    public var address: PCIAddress
    /// `vendor`.
    public var vendorID: UInt16
    /// `device`.
    public var deviceID: UInt16
    /// `subsystem_vendor`.
    public var subsystemVendorID: UInt16?
    /// `subsystem_device`.
    public var subsystemDeviceID: UInt16?
    /// `revision`.
    public var revision: UInt8?
    /// `class`: base class, subclass and programming interface (`0x030000`).
    public var classCode: UInt32
    /// The bound driver's name (the `driver` link's last component); `nil` when unbound.
    public var driver: String?
    /// `driver_override`; `nil` when empty or `(null)`.
    public var driverOverride: String?
    /// The group of the function's own `iommu_group` link; `nil` without an IOMMU.
    public var iommuGroup: Int?
    /// `numa_node`; `nil` when absent or -1.
    public var numaNode: Int?
    /// `sriov_totalvfs` on a physical function.
    public var totalVFs: Int?
    /// `sriov_numvfs` on a physical function.
    public var numVFs: Int?
    /// The physical function of a virtual function (`physfn` link).
    public var physfn: PCIAddress?
    /// The virtual functions of a physical function (`virtfnN` links, in N order).
    public var virtfns: [PCIAddress]
    /// `reset_method`, split on spaces; `nil` when the kernel does not expose it.
    public var resetMethods: [String]?
    /// `boot_vga` is 1: the firmware's console GPU.
    public var bootVGA: Bool
    /// A PCI-to-PCI bridge (class 0x0604) or other bridge function that vfiod never binds.
    public var isBridge: Bool
    /// The VFIO device cdev name from `vfio-dev/` (`vfio3`), present while bound to vfio-pci on ≥ 6.6.
    public var vfioCdev: String?
    /// The PCIe Device Serial Number, when the config space exposes one (`xx-xx-…`).
    public var serialNumber: String?
    /// Block devices below this function that have a mounted filesystem (`nvme0n1`, through dm/md too).
    public var mountedBlockDevices: [String]
    /// Network interfaces below this function (`net/` directory).
    public var netInterfaces: [String]
    /// One of `netInterfaces` carries the default route (`/proc/net/route`).
    public var carriesDefaultRoute: Bool
    /// The resolved sysfs directory, e.g. `/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0`.
    public var sysfsPath: String
    /// What could not be read, in words (`"no iommu_group link"`).
    public var notes: [String]

    /// Creates facts with everything optional left empty.
    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32, sysfsPath: String) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.sysfsPath = sysfsPath
        self.virtfns = []
        self.bootVGA = false
        self.isBridge = false
        self.mountedBlockDevices = []
        self.netInterfaces = []
        self.carriesDefaultRoute = false
        self.notes = []
    }
}

/// What the host as a whole offers VFIO.
public struct HostFacts: Sendable, Hashable {
    /// `uname -r`, or `proc/sys/kernel/osrelease` under the host root.
    public var kernelRelease: String?
    /// `proc/sys/kernel/random/boot_id`: changes on every boot.
    public var bootID: String?
    /// `sys/kernel/iommu_groups` has groups, or any device has an `iommu_group` link.
    public var iommuPresent: Bool
    /// `sys/bus/pci/drivers/vfio-pci` exists.
    public var vfioPCILoaded: Bool
    /// `dev/vfio/devices` exists (the VFIO device cdev, kernel ≥ 6.6).
    public var cdevSupported: Bool
    /// `dev/iommu` exists (iommufd).
    public var iommufdPresent: Bool
    /// `dev/vfio/vfio` exists (the legacy container).
    public var vfioContainerPresent: Bool
    /// Group ids that have `dev/vfio/<N>`.
    public var vfioGroupNodes: Set<Int>
    /// Whether interrupts are remapped, and whether VFIO was told to lend without it.
    public var interruptRemapping = InterruptRemapping()

    /// Creates facts for a host with nothing VFIO-related.
    public init() {
        iommuPresent = false
        vfioPCILoaded = false
        cdevSupported = false
        iommufdPresent = false
        vfioContainerPresent = false
        vfioGroupNodes = []
    }
}

/// One full read of the host: every PCI function, every IOMMU group, and what was missing.
public struct HostScan: Sendable {
    /// Host-wide facts.
    public var host: HostFacts
    /// Every PCI function, sorted by address.
    public var devices: [PCIDeviceFacts]
    /// Group id → members, sorted. From `sys/kernel/iommu_groups` when present, else from per-device links.
    public var groups: [Int: [PCIAddress]]
    /// Tree-wide notes (`"sys/kernel/iommu_groups is missing; groups derived from device links"`).
    public var notes: [String]

    /// Creates a scan.
    public init(host: HostFacts, devices: [PCIDeviceFacts], groups: [Int: [PCIAddress]], notes: [String]) {
        self.host = host
        self.devices = devices
        self.groups = groups
        self.notes = notes
    }
}
