import VFIOCore
public import VFIOSimulator

/// Builds fake host trees for tests with ``SysfsTreeBuilder``, in a ``TemporaryDirectory``.
public enum FakeSysfs {
    /// Writes `host` into a new temporary directory and returns it.
    public static func make(_ host: HostSpec) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "sysfs")
        try SysfsTreeBuilder(root: directory.path).build(host)
        return directory
    }

    /// Writes the topology file at `path` (`examples/topologies/…json`) into a new temporary directory, for
    /// a simulator used in place (`SimulatedKernel(source:inPlace: true)`, `vfiod --simulate-in-place`).
    public static func make(topology path: String) throws -> TemporaryDirectory {
        try make(Topology.load(path: path))
    }

    /// A function description in one call: `device("0000:01:00.0", 0x10de, 0x2684, 0x030000, driver: "nvidia")`.
    public static func device(_ address: String, _ vendor: UInt16, _ device: UInt16, _ classCode: UInt32,
                              driver: String? = nil, group: Int? = nil, parent: String? = nil) -> DeviceSpec {
        DeviceSpec(address: PCIAddress(address)!, vendorID: vendor, deviceID: device, classCode: classCode,
                   driver: driver, iommuGroup: group, parent: parent.flatMap { PCIAddress($0) })
    }
}
