public import VFIOCore

/// Writes a host tree in the kernel's own layout beneath `root`: `sys/devices/pciDDDD:BB/…` with children
/// below their bridges, `sys/bus/pci/devices` and driver links, IOMMU groups, SR-IOV links, VFIO nodes in
/// `dev/`, block devices and mounts, network interfaces and routes, and the `proc` files vfiod reads.
///
/// Used by ``SimulatedKernel`` and by tests as the fake-tree helper. The tree is plain files: a later
/// ``setDriver(_:for:)`` moves a device's driver links the way bind/unbind would.
public struct SysfsTreeBuilder: Sendable {
    /// The tree's root directory.
    public let root: String

    /// Creates a builder writing beneath `root` (which must exist or be creatable).
    public init(root: String) {
        self.root = root
    }

    /// The ``HostPaths`` of the tree.
    public var paths: HostPaths { HostPaths(root: root) }

    /// Writes the whole host. Throws ``KernelError`` on a file-system failure and ``TopologyError`` when a
    /// device names a parent or physical function that is not in `host`.
    public func build(_ host: HostSpec) throws {
        var writer = TreeWriter(root: root)
        let byAddress = Dictionary(host.devices.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        var directories: [PCIAddress: String] = [:]
        for device in host.devices {
            directories[device.address] = try Self.devicePath(device, in: byAddress)
        }
        try writeHost(host, &writer)
        var context = BuildContext()
        for device in host.devices.sorted(by: { $0.address < $1.address }) {
            try writeDevice(device, host: host, directories: directories, context: &context, &writer)
        }
        try writeMountsAndRoutes(context, &writer)
        var faults = SimulatorFaults()
        for device in host.devices {
            for name in device.faults { if let fault = SimulatorFault(name: name, address: device.address) { faults.set(fault, true) } }
        }
        if !faults.isEmpty { try SimulatorStateDirectory(root: root).writeFaults(faults) }
    }

    /// `sys/devices/pciDDDD:BB/<ancestors…>/<address>`, root-relative. VFs sit beside their PF.
    static func devicePath(_ device: DeviceSpec, in devices: [PCIAddress: DeviceSpec]) throws -> String {
        var chain: [PCIAddress] = [device.address]
        var current = device
        while let parent = current.parent ?? current.physfn.flatMap({ devices[$0]?.parent }) {
            guard let next = devices[parent] else {
                throw TopologyError("device \(current.address): field \"parent\": \(parent) is not a device of this host")
            }
            guard chain.count < 64, !chain.contains(parent) else {
                throw TopologyError("device \(current.address): field \"parent\": bridges form a cycle")
            }
            chain.append(parent)
            current = next
        }
        // The loop ends on the topmost bridge (or the device itself): `chain`'s last address.
        let top = current.address
        let rootBus = "pci" + Self.hex(top.domain, digits: 4) + ":" + Self.hex(top.bus, digits: 2)
        return "sys/devices/" + rootBus + "/" + chain.reversed().map(\.description).joined(separator: "/")
    }

    /// `0x10de` with at least `digits` digits.
    static func hex(_ value: some BinaryInteger, digits: Int, prefix: Bool = false) -> String {
        let text = String(value, radix: 16)
        return (prefix ? "0x" : "") + String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private func writeHost(_ host: HostSpec, _ writer: inout TreeWriter) throws {
        try writer.file("proc/sys/kernel/osrelease", host.kernelRelease + "\n")
        try writer.file("proc/sys/kernel/random/boot_id", host.bootID + "\n")
        try writer.directory("sys/bus/pci/devices")
        try writer.directory("sys/bus/pci/drivers")
        try writer.file("sys/bus/pci/drivers_probe", "")
        try writer.file("sys/bus/pci/drivers_autoprobe", "1\n")
        try writer.file("sys/bus/pci/rescan", "")
        if host.iommu { try writer.directory("sys/kernel/iommu_groups") }
        try writer.directory("dev")
        if host.vfioPCILoaded {
            try Self.writeDriverDirectory("vfio-pci", &writer)
            try writer.file("dev/vfio/vfio", "")
        }
        if host.cdev && host.vfioPCILoaded { try writer.directory("dev/vfio/devices") }
        if host.iommufd { try writer.file("dev/iommu", "") }
    }

    /// `sys/bus/pci/drivers/<name>/` with its control files.
    static func writeDriverDirectory(_ name: String, _ writer: inout TreeWriter) throws {
        let directory = "sys/bus/pci/drivers/" + name
        guard !SysfsFiles.isDirectory(writer.absolute(directory)) else { return }
        for control in ["bind", "unbind", "new_id", "remove_id", "uevent"] {
            try writer.file(directory + "/" + control, "")
        }
    }
}
