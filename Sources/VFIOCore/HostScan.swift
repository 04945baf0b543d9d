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

/// The kernel vfiod talks to: the real Linux one or a simulated one, behind one protocol.
///
/// Reads (`scan`, `driver(of:)` …) and the sysfs writes a bind or a restore is made of. Every write is
/// one kernel operation, so the journal can record an intent before each one and an outcome after it.
/// Every method blocks (a sysfs `unbind` can block forever while a process holds the device): call them
/// from dedicated threads, never from Swift's cooperative pool.
public protocol HostKernel: VFIOKernel {
    /// `linux` or `simulated`.
    var backend: String { get }
    /// Where this kernel's `sys/`, `dev/`, `proc/` are.
    var paths: HostPaths { get }
    /// Reads the whole PCI tree.
    func scan() throws -> HostScan

    /// Writes `driver` to `sys/bus/pci/devices/<address>/driver_override`, or a newline to clear it.
    func setDriverOverride(_ address: PCIAddress, to driver: String?) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers/<driver>/unbind`. May block while userspace holds it.
    func unbind(_ address: PCIAddress, from driver: String) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers_probe`: the kernel binds the override driver if one is
    /// set, else the best matching driver, else none.
    func probe(_ address: PCIAddress) throws(KernelError)
    /// Writes the address to `sys/bus/pci/drivers/<driver>/bind`.
    func bind(_ address: PCIAddress, to driver: String) throws(KernelError)

    /// The driver bound now (the `driver` link's last component), `nil` when unbound.
    func driver(of address: PCIAddress) -> String?
    /// `driver_override`, `nil` when empty or `(null)`.
    func driverOverride(of address: PCIAddress) -> String?
    /// The group of the function's `iommu_group` link.
    func iommuGroup(of address: PCIAddress) -> Int?
    /// Every function in the group (`sys/kernel/iommu_groups/<group>/devices`, else the device links).
    func groupMembers(_ group: Int) -> [PCIAddress]
    /// `dev/vfio/<group>` exists.
    func groupDeviceExists(_ group: Int) -> Bool
    /// The VFIO device cdev name (`vfio3`) from `vfio-dev/`, when the kernel made one.
    func vfioCdev(of address: PCIAddress) -> String?
    /// `proc/sys/kernel/random/boot_id`.
    func bootID() -> String?
}

extension HostKernel {
    /// Re-reads `addresses` and the host-wide VFIO facts into `scan` in place and returns the addresses
    /// whose facts changed (see ``SysfsScanner/rescan(_:updating:)``): how an operation publishes what it
    /// changed without a full scan.
    public func rescan(_ addresses: [PCIAddress], updating scan: inout HostScan) -> [PCIAddress] {
        SysfsScanner(paths: paths).rescan(addresses, updating: &scan)
    }
}
