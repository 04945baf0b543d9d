import Foundation
import Testing
import VFIOCore
import VFIOSimulator

/// Bind and restore round trips through the simulated kernel, scanning after every step.
struct SimulatedBindTests {
    /// A root port with a GPU alone in group 2; a PCIe-to-PCI bridge sharing group 7 with two endpoints
    /// (one on e1000e, one unbound); an SR-IOV PF with two VFs (one on iavf, one unbound).
    static func lab(cdev: Bool = true, vfioPCILoaded: Bool = true) -> HostSpec {
        var pf = device("0000:05:00.0", 0x020000, driver: "ice", group: 10)
        pf.sriov = .init(totalVFs: 8, numVFs: 2)
        var vf0 = device("0000:05:00.1", 0x020000, driver: "iavf", group: 11)
        vf0.physfn = pf.address
        var vf1 = device("0000:05:00.2", 0x020000, group: 12)
        vf1.physfn = pf.address
        return HostSpec(bootID: "boot-1", vfioPCILoaded: vfioPCILoaded, cdev: cdev, devices: [
            device("0000:00:01.0", 0x060400, driver: "pcieport", group: 1),
            device("0000:01:00.0", 0x030000, driver: "nvidia", group: 2, parent: "0000:00:01.0"),
            device("0000:00:1c.0", 0x060400, driver: "pcieport", group: 7),
            device("0000:03:00.0", 0x020000, driver: "e1000e", group: 7, parent: "0000:00:1c.0"),
            device("0000:03:00.1", 0x020000, group: 7, parent: "0000:00:1c.0"),
            pf, vf0, vf1,
        ])
    }

    @Test func singleDeviceGroupRoundTrip() throws {
        let kernel = try SimulatedKernel(host: Self.lab())
        defer { kernel.close() }
        let gpu = pci("0000:01:00.0")
        let override = kernel.paths.pciDevice(gpu) + "/driver_override"

        try kernel.setDriverOverride(gpu, to: "vfio-pci")
        #expect(try contents(override) == "vfio-pci\n")
        var facts = try scanned(kernel, gpu)
        #expect(facts.driver == "nvidia" && facts.driverOverride == "vfio-pci")

        try kernel.unbind(gpu, from: "nvidia")
        facts = try scanned(kernel, gpu)
        #expect(facts.driver == nil && kernel.driver(of: gpu) == nil)
        #expect(!SysfsFiles.isSymbolicLink(kernel.paths.sys("bus/pci/drivers/nvidia/0000:01:00.0")))

        try kernel.probe(gpu)
        let bound = try kernel.scan()
        facts = try #require(bound.devices.first { $0.address == gpu })
        #expect(facts.driver == "vfio-pci" && facts.vfioCdev == "vfio0")
        #expect(bound.host.vfioGroupNodes == [2])
        #expect(kernel.groupDeviceExists(2) && kernel.vfioCdev(of: gpu) == "vfio0")
        #expect(SysfsFiles.exists(kernel.paths.dev("vfio/devices/vfio0")))
        let link = try SysfsFiles.readLink(kernel.paths.sys("bus/pci/drivers/vfio-pci/0000:01:00.0"))
        #expect(link == "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0")

        try kernel.setDriverOverride(gpu, to: nil)
        #expect(try contents(override) == "(null)\n")
        try kernel.unbind(gpu, from: "vfio-pci")
        let unbound = try kernel.scan()
        facts = try #require(unbound.devices.first { $0.address == gpu })
        #expect(facts.driver == nil && facts.vfioCdev == nil && facts.driverOverride == nil)
        #expect(unbound.host.vfioGroupNodes.isEmpty && !kernel.groupDeviceExists(2))
        #expect(!SysfsFiles.exists(kernel.paths.dev("vfio/devices/vfio0")))

        try kernel.probe(gpu)
        facts = try scanned(kernel, gpu)
        #expect(facts.driver == "nvidia" && facts.driverOverride == nil)
        #expect(try scanned(kernel, pci("0000:00:01.0")).driver == "pcieport")
    }

    @Test func twoEndpointGroupBehindABridge() throws {
        let kernel = try SimulatedKernel(host: Self.lab())
        defer { kernel.close() }
        let bridge = pci("0000:00:1c.0"), nic = pci("0000:03:00.0"), spare = pci("0000:03:00.1")
        #expect(kernel.groupMembers(7) == [bridge, nic, spare])

        try bindToVFIO(kernel, spare)
        var scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == spare }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == nic }?.driver == "e1000e")
        #expect(scan.host.vfioGroupNodes == [7], "the first member on vfio-pci makes the group node")

        try bindToVFIO(kernel, nic)
        scan = try kernel.scan()
        let cdevs = Set(scan.devices.compactMap(\.vfioCdev))
        #expect(scan.devices.first { $0.address == nic }?.driver == "vfio-pci")
        #expect(cdevs == ["vfio0", "vfio1"])
        #expect(scan.devices.first { $0.address == bridge }?.driver == "pcieport")

        try restore(kernel, nic)
        scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == nic }?.driver == "e1000e")
        #expect(scan.host.vfioGroupNodes == [7], "the spare function still holds the group")

        try restore(kernel, spare)
        scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == spare }?.driver == nil, "no native driver: stays unbound")
        #expect(scan.host.vfioGroupNodes.isEmpty)
        #expect(scan.devices.first { $0.address == bridge }?.driver == "pcieport")
    }

    @Test func sriovVirtualFunction() throws {
        let kernel = try SimulatedKernel(host: Self.lab())
        defer { kernel.close() }
        let pf = pci("0000:05:00.0"), vf = pci("0000:05:00.1"), spareVF = pci("0000:05:00.2")

        try bindToVFIO(kernel, vf)
        var scan = try kernel.scan()
        let facts = try #require(scan.devices.first { $0.address == vf })
        #expect(facts.driver == "vfio-pci" && facts.physfn == pf && facts.vfioCdev == "vfio0")
        #expect(scan.devices.first { $0.address == pf }?.driver == "ice")
        #expect(scan.devices.first { $0.address == pf }?.virtfns == [vf, spareVF])
        #expect(scan.host.vfioGroupNodes == [11])

        try bindToVFIO(kernel, spareVF)
        #expect(try scanned(kernel, spareVF).vfioCdev == "vfio1")
        try restore(kernel, vf)
        try restore(kernel, spareVF)
        scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == vf }?.driver == "iavf")
        #expect(scan.devices.first { $0.address == spareVF }?.driver == nil)
        #expect(scan.host.vfioGroupNodes.isEmpty)
    }

    @Test func hostWithoutCdevMakesOnlyTheGroupNode() throws {
        let kernel = try SimulatedKernel(host: Self.lab(cdev: false))
        defer { kernel.close() }
        let gpu = pci("0000:01:00.0")
        try bindToVFIO(kernel, gpu)
        let scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == gpu }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == gpu }?.vfioCdev == nil)
        #expect(scan.host.vfioGroupNodes == [2] && !scan.host.cdevSupported)
    }

    @Test func overrideNamingAnAbsentDriverLeavesTheDeviceUnbound() throws {
        let kernel = try SimulatedKernel(host: Self.lab(vfioPCILoaded: false))
        defer { kernel.close() }
        let gpu = pci("0000:01:00.0")
        try bindToVFIO(kernel, gpu)
        #expect(try scanned(kernel, gpu).driver == nil, "vfio-pci is not loaded: the override matches nothing")
        #expect(throws: KernelError(call: "write", path: kernel.paths.sys("bus/pci/drivers/vfio-pci/bind"), errno: ENOENT)) {
            try kernel.bind(gpu, to: "vfio-pci")
        }
        try restore(kernel, gpu)
        #expect(try scanned(kernel, gpu).driver == "nvidia")
    }
}
