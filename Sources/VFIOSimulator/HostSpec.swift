public import VFIOCore

/// A concrete simulated host: host-wide facts and every PCI function, ready for ``SysfsTreeBuilder``.
///
/// Topology files expand to this; tests can also build one directly.
public struct HostSpec: Sendable, Hashable {
    /// `proc/sys/kernel/osrelease`.
    public var kernelRelease: String
    /// `proc/sys/kernel/random/boot_id`.
    public var bootID: String
    /// Whether groups exist (`sys/kernel/iommu_groups`, `iommu_group` links).
    public var iommu: Bool
    /// Whether `sys/bus/pci/drivers/vfio-pci` and `dev/vfio/vfio` exist.
    public var vfioPCILoaded: Bool
    /// Whether `dev/vfio/devices/` and `vfio-dev/` exist (kernel ≥ 6.6).
    public var cdev: Bool
    /// Whether `dev/iommu` exists.
    public var iommufd: Bool
    /// Every function; parents before children is not required.
    public var devices: [DeviceSpec]

    /// Creates a host.
    public init(kernelRelease: String = "6.8.0-simulated", bootID: String = "00000000-0000-4000-8000-000000000001",
                iommu: Bool = true, vfioPCILoaded: Bool = true, cdev: Bool = true, iommufd: Bool = true,
                devices: [DeviceSpec] = []) {
        self.kernelRelease = kernelRelease
        self.bootID = bootID
        self.iommu = iommu
        self.vfioPCILoaded = vfioPCILoaded
        self.cdev = cdev
        self.iommufd = iommufd
        self.devices = devices
    }
}

/// One simulated PCI function.
public struct DeviceSpec: Sendable, Hashable {
    /// The function's address.
    public var address: PCIAddress
    /// `vendor`, `device`.
    public var vendorID: UInt16, deviceID: UInt16
    /// `subsystem_vendor`, `subsystem_device`; `nil` writes no file.
    public var subsystemVendorID: UInt16?, subsystemDeviceID: UInt16?
    /// `class` (`0x030000`).
    public var classCode: UInt32
    /// `revision`.
    public var revision: UInt8
    /// The bound driver; `nil` for none.
    public var driver: String?
    /// `driver_override`; `nil` writes `(null)`.
    public var driverOverride: String?
    /// The IOMMU group; ignored when the host has no IOMMU.
    public var iommuGroup: Int?
    /// `numa_node`; `nil` writes `-1`.
    public var numaNode: Int?
    /// `boot_vga` (written for display-class functions only, as the kernel does).
    public var bootVGA: Bool
    /// `reset_method` words; `nil` writes no file (the function cannot be reset).
    public var resetMethods: [String]?
    /// The bridge the function sits below in `sys/devices`; `nil` for the root bus.
    public var parent: PCIAddress?
    /// `sriov_totalvfs` / `sriov_numvfs` on a physical function.
    public var sriov: SRIOV?
    /// The physical function of a virtual function (`physfn`; the PF gets `virtfnN`).
    public var physfn: PCIAddress?
    /// Block devices below the function.
    public var blockDevices: [BlockDevice]
    /// Network interfaces below the function.
    public var netInterfaces: [NetInterface]
    /// The PCIe Device Serial Number, written into a 4 KiB `config`.
    public var serialNumber: UInt64?
    /// Faults the simulator starts with for this function, by fault-file key (see ``SimulatorFault``).
    public var faults: [String] = []

    /// SR-IOV capability numbers.
    public struct SRIOV: Sendable, Hashable {
        /// `sriov_totalvfs`.
        public var totalVFs: Int
        /// `sriov_numvfs`.
        public var numVFs: Int
        /// Creates the numbers.
        public init(totalVFs: Int, numVFs: Int) { self.totalVFs = totalVFs; self.numVFs = numVFs }
    }

    /// A disk below the function; `deviceMapper` puts a dm device on top of it, which is what gets mounted.
    public struct BlockDevice: Sendable, Hashable {
        /// Kernel name (`nvme0n1`, `sda`).
        public var name: String
        /// Where it (or its dm device) is mounted; `nil` for not mounted.
        public var mountPoint: String?
        /// A dm device name (`dm-0`) stacked on this disk, mounted instead of it.
        public var deviceMapper: String?
        /// Creates a block device.
        public init(name: String, mountPoint: String? = nil, deviceMapper: String? = nil) {
            self.name = name; self.mountPoint = mountPoint; self.deviceMapper = deviceMapper
        }
    }

    /// A network interface below the function.
    public struct NetInterface: Sendable, Hashable {
        /// Interface name (`eno1`).
        public var name: String
        /// Carries the default route in `proc/net/route`.
        public var defaultRoute: Bool
        /// Creates an interface.
        public init(name: String, defaultRoute: Bool = false) { self.name = name; self.defaultRoute = defaultRoute }
    }

    /// Creates a function with nothing optional set.
    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32, revision: UInt8 = 0,
                driver: String? = nil, iommuGroup: Int? = nil, parent: PCIAddress? = nil) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.revision = revision
        self.driver = driver
        self.iommuGroup = iommuGroup
        self.parent = parent
        self.bootVGA = false
        self.blockDevices = []
        self.netInterfaces = []
    }

    /// Base class 0x06 subclass 0x04 (PCI-to-PCI) or 0x09 (semi-transparent): may have children.
    public var isBridge: Bool { classCode >> 8 == 0x0604 || classCode >> 8 == 0x0609 }
}
