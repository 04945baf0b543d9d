import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Every `PCIDeviceFacts` field, read from trees written by `SysfsTreeBuilder`.
struct FakeTreeScanTests {
    /// A root port with a GPU + audio below it, an SR-IOV NIC with two VFs carrying the default route,
    /// an NVMe under dm with `/` mounted, a driverless device, the boot VGA.
    static func host() -> HostSpec {
        var port = FakeSysfs.device("0000:00:01.0", 0x8086, 0xa70d, 0x060400, driver: "pcieport", group: 1)
        port.numaNode = 0
        var gpu = FakeSysfs.device("0000:01:00.0", 0x10de, 0x2684, 0x030000, driver: "vfio-pci", group: 2, parent: "0000:00:01.0")
        gpu.subsystemVendorID = 0x1043
        gpu.subsystemDeviceID = 0x889d
        gpu.revision = 0xa1
        gpu.resetMethods = ["flr", "bus"]
        gpu.serialNumber = 0x0011_2233_4455_6677
        gpu.numaNode = 1
        gpu.driverOverride = "vfio-pci"
        let audio = FakeSysfs.device("0000:01:00.1", 0x10de, 0x22ba, 0x040300, driver: "snd_hda_intel", group: 2, parent: "0000:00:01.0")
        var igpu = FakeSysfs.device("0000:00:02.0", 0x8086, 0xa780, 0x030000, driver: "i915", group: 3)
        igpu.bootVGA = true
        var nic = FakeSysfs.device("0000:00:03.0", 0x8086, 0x1593, 0x020000, driver: "ice", group: 4)
        nic.sriov = .init(totalVFs: 8, numVFs: 2)
        nic.netInterfaces = [.init(name: "ens3f0", defaultRoute: true)]
        var vf0 = FakeSysfs.device("0000:00:03.1", 0x8086, 0x1889, 0x020000, driver: "iavf", group: 5)
        vf0.physfn = nic.address
        var vf1 = FakeSysfs.device("0000:00:03.2", 0x8086, 0x1889, 0x020000, group: 6)
        vf1.physfn = nic.address
        var nvme = FakeSysfs.device("0000:00:04.0", 0x144d, 0xa80a, 0x010802, driver: "nvme", group: 7)
        nvme.blockDevices = [.init(name: "nvme0n1", mountPoint: "/", deviceMapper: "dm-0")]
        var otherNIC = FakeSysfs.device("0000:00:05.0", 0x8086, 0x125c, 0x020000, driver: "igc", group: 8)
        otherNIC.netInterfaces = [.init(name: "enp0s5")]
        return HostSpec(kernelRelease: "6.8.0-test", bootID: "b007-1d", devices: [port, gpu, audio, igpu, nic, vf0, vf1, nvme, otherNIC])
    }

    /// The QEMU lab: Debian's 6.12 has `vfio-dev/vfio0` in sysfs but no `/dev/vfio/devices` (no
    /// `CONFIG_VFIO_DEVICE_CDEV`): no cdev. With `/dev/iommu` and the vfio-dev class, cdevs are supported
    /// before any device is bound.
    @Test func aVFIODevEntryWithoutItsNodeIsNoCdev() throws {
        let tree = try FakeSysfs.make(Self.host())
        let paths = tree.hostPaths
        try FileManager.default.removeItem(atPath: paths.dev("vfio/devices"))
        let scan = try SysfsScanner(paths: paths).scan()
        #expect(scan.devices.first { $0.address.description == "0000:01:00.0" }?.vfioCdev == nil)
        #expect(LinuxKernel(paths: paths).vfioCdev(of: PCIAddress("0000:01:00.0")!) == nil)
        #expect(!scan.host.cdevSupported)

        try FileManager.default.createDirectory(atPath: paths.sys("class/vfio-dev"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: paths.dev("iommu"), contents: nil))
        #expect(try SysfsScanner(paths: paths).scan().host.cdevSupported)
    }

    @Test func readsEveryField() throws {
        let tree = try FakeSysfs.make(Self.host())
        let scan = try SysfsScanner(paths: tree.hostPaths).scan()
        #expect(scan.devices.count == 9)
        let byAddress = Dictionary(uniqueKeysWithValues: scan.devices.map { ($0.address.description, $0) })

        let port = try #require(byAddress["0000:00:01.0"])
        #expect(port.isBridge && port.driver == "pcieport" && port.numaNode == 0)
        let gpu = try #require(byAddress["0000:01:00.0"])
        #expect(gpu.vendorID == 0x10de && gpu.deviceID == 0x2684 && gpu.classCode == 0x030000)
        #expect(gpu.subsystemVendorID == 0x1043 && gpu.subsystemDeviceID == 0x889d && gpu.revision == 0xa1)
        #expect(gpu.driver == "vfio-pci" && gpu.driverOverride == "vfio-pci" && gpu.iommuGroup == 2 && gpu.numaNode == 1)
        #expect(gpu.resetMethods == ["flr", "bus"] && !gpu.bootVGA && !gpu.isBridge)
        #expect(gpu.serialNumber == "00-11-22-33-44-55-66-77")
        #expect(gpu.vfioCdev == "vfio0")
        #expect(gpu.sysfsPath.hasSuffix("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"))
        let audio = try #require(byAddress["0000:01:00.1"])
        #expect(audio.driverOverride == nil && audio.resetMethods == nil && audio.notes.contains("no reset_method file"))
        #expect(audio.numaNode == nil && audio.serialNumber == nil && audio.vfioCdev == nil)
        #expect(byAddress["0000:00:02.0"]?.bootVGA == true)

        let nic = try #require(byAddress["0000:00:03.0"])
        #expect(nic.totalVFs == 8 && nic.numVFs == 2)
        #expect(nic.virtfns.map(\.description) == ["0000:00:03.1", "0000:00:03.2"])
        #expect(nic.netInterfaces == ["ens3f0"] && nic.carriesDefaultRoute)
        #expect(byAddress["0000:00:03.1"]?.physfn == nic.address)
        let driverless = try #require(byAddress["0000:00:03.2"])
        #expect(driverless.driver == nil && driverless.physfn == nic.address)
        #expect(byAddress["0000:00:04.0"]?.mountedBlockDevices == ["nvme0n1"])
        #expect(byAddress["0000:00:05.0"]?.netInterfaces == ["enp0s5"])
        #expect(byAddress["0000:00:05.0"]?.carriesDefaultRoute == false)
        #expect(byAddress["0000:00:05.0"]?.mountedBlockDevices == [])
    }

    @Test func readsHostFactsAndGroups() throws {
        let tree = try FakeSysfs.make(Self.host())
        let scan = try SysfsScanner(paths: tree.hostPaths).scan()
        #expect(scan.host.kernelRelease == "6.8.0-test" && scan.host.bootID == "b007-1d")
        #expect(scan.host.iommuPresent && scan.host.vfioPCILoaded && scan.host.cdevSupported)
        #expect(scan.host.iommufdPresent && scan.host.vfioContainerPresent)
        #expect(scan.host.vfioGroupNodes == [2])
        #expect(scan.groups[2]?.map(\.description) == ["0000:01:00.0", "0000:01:00.1"])
        #expect(scan.groups.count == 8)
        #expect(!scan.notes.contains { $0.contains("derived") })
    }

    @Test func danglingDriverLinkAndMissingFilesBecomeNotes() throws {
        let tree = try FakeSysfs.make(Self.host())
        let gpu = tree.path + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
        // The driver directory vanishes (module unloaded under our feet); vendor and class files go missing.
        try FileManager.default.removeItem(atPath: tree.path + "/sys/bus/pci/drivers/vfio-pci")
        try FileManager.default.removeItem(atPath: gpu + "/vendor")
        try FileManager.default.removeItem(atPath: gpu + "/iommu_group")
        try "garbage\n".write(toFile: gpu + "/class", atomically: false, encoding: .utf8)
        let scan = try SysfsScanner(paths: tree.hostPaths).scan()
        let facts = try #require(scan.devices.first { $0.address.description == "0000:01:00.0" })
        #expect(facts.driver == nil)
        #expect(facts.notes.contains { $0.hasPrefix("driver link dangles") })
        #expect(facts.notes.contains("no vendor file"))
        #expect(facts.notes.contains("class is not a hex number"))
        #expect(facts.notes.contains("no iommu_group link"))
        #expect(facts.iommuGroup == nil && facts.deviceID == 0x2684)
        #expect(!scan.host.vfioPCILoaded)
    }

    @Test func groupsDerivedFromLinksWhenGroupDirectoryIsMissing() throws {
        let tree = try FakeSysfs.make(Self.host())
        try FileManager.default.removeItem(atPath: tree.path + "/sys/kernel/iommu_groups")
        let scan = try SysfsScanner(paths: tree.hostPaths).scan()
        #expect(scan.groups[2]?.count == 2)
        #expect(scan.notes.contains("sys/kernel/iommu_groups is missing; groups derived from device links"))
        #expect(scan.host.iommuPresent)
    }

    @Test func missingBusDirectoryThrows() throws {
        let empty = try TemporaryDirectory()
        #expect(throws: KernelError.self) { try SysfsScanner(paths: empty.hostPaths).scan() }
    }
}
