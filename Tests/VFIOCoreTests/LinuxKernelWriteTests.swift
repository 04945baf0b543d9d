import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `LinuxKernel`'s writes and single-fact reads against a fake tree. A fake tree cannot react: these tests
/// check the bytes that land in each attribute and the paths used; the kernel's reactions are the
/// simulator's business (VFIOSimulatorTests).
struct LinuxKernelWriteTests {
    let tree: TemporaryDirectory
    let kernel: LinuxKernel
    let gpu = PCIAddress("0000:01:00.0")!
    let audio = PCIAddress("0000:01:00.1")!

    init() throws {
        let port = FakeSysfs.device("0000:00:01.0", 0x8086, 0xa70d, 0x060400, driver: "pcieport", group: 1)
        let gpu = FakeSysfs.device("0000:01:00.0", 0x10de, 0x2684, 0x030000, driver: "nvidia", group: 2, parent: "0000:00:01.0")
        var audio = FakeSysfs.device("0000:01:00.1", 0x10de, 0x22ba, 0x040300, driver: "vfio-pci", group: 2, parent: "0000:00:01.0")
        audio.driverOverride = "vfio-pci"
        tree = try FakeSysfs.make(HostSpec(bootID: "4d2c-boot", devices: [port, gpu, audio]))
        kernel = LinuxKernel(paths: tree.hostPaths)
    }

    func bytes(_ relative: String) throws -> String {
        String(decoding: try SysfsFiles.readBytes(tree.path + "/sys/" + relative), as: UTF8.self)
    }

    @Test func driverOverrideGetsTheExactBytes() throws {
        try kernel.setDriverOverride(gpu, to: "vfio-pci")
        #expect(try bytes("bus/pci/devices/0000:01:00.0/driver_override") == "vfio-pci")
        try kernel.setDriverOverride(gpu, to: nil)
        #expect(try bytes("bus/pci/devices/0000:01:00.0/driver_override") == "\n")
    }

    @Test func unbindProbeAndBindWriteTheAddress() throws {
        try kernel.unbind(gpu, from: "nvidia")
        #expect(try bytes("bus/pci/drivers/nvidia/unbind") == "0000:01:00.0")
        try kernel.probe(gpu)
        #expect(try bytes("bus/pci/drivers_probe") == "0000:01:00.0")
        try kernel.bind(audio, to: "vfio-pci")
        #expect(try bytes("bus/pci/drivers/vfio-pci/bind") == "0000:01:00.1")
        #expect(kernel.driver(of: gpu) == "nvidia", "a fake tree does not react")
        #expect(try bytes("bus/pci/drivers/nvidia/new_id").isEmpty, "new_id is never written")
    }

    @Test func failuresNameTheCallPathAndErrno() throws {
        let missing = tree.path + "/sys/bus/pci/drivers/nouveau/unbind"
        #expect(throws: KernelError(call: "write", path: missing, errno: ENOENT)) { try kernel.unbind(gpu, from: "nouveau") }
        #expect(!FileManager.default.fileExists(atPath: missing), "a write never creates the attribute")
        let escaping = tree.path + "/sys/bus/pci/drivers/../../../etc/bind"
        #expect(throws: KernelError(call: "write", path: escaping, errno: EINVAL)) { try kernel.bind(gpu, to: "../../../etc") }
        let override = tree.path + "/sys/bus/pci/devices/0000:01:00.0/driver_override"
        #expect(throws: KernelError(call: "write", path: override, errno: EINVAL)) { try kernel.setDriverOverride(gpu, to: "vfio pci") }
        #expect(try bytes("bus/pci/devices/0000:01:00.0/driver_override") == "(null)\n")
        let gone = PCIAddress("0000:7f:00.0")!
        #expect(throws: KernelError(call: "write", path: tree.path + "/sys/bus/pci/devices/0000:7f:00.0/driver_override", errno: ENOENT)) {
            try kernel.setDriverOverride(gone, to: "vfio-pci")
        }
    }

    @Test func singleFactReads() throws {
        #expect(kernel.driver(of: gpu) == "nvidia" && kernel.driver(of: audio) == "vfio-pci")
        #expect(kernel.driverOverride(of: gpu) == nil && kernel.driverOverride(of: audio) == "vfio-pci")
        #expect(kernel.iommuGroup(of: gpu) == 2 && kernel.iommuGroup(of: PCIAddress("0000:00:01.0")!) == 1)
        #expect(kernel.groupMembers(2) == [gpu, audio])
        #expect(kernel.groupDeviceExists(2) && !kernel.groupDeviceExists(1))
        #expect(kernel.vfioCdev(of: audio) == "vfio0" && kernel.vfioCdev(of: gpu) == nil)
        #expect(kernel.bootID() == "4d2c-boot")
        #expect(kernel.driver(of: PCIAddress("0000:7f:00.0")!) == nil)
    }

    @Test func groupMembersFallBackToDeviceLinks() throws {
        try FileManager.default.removeItem(atPath: tree.path + "/sys/kernel/iommu_groups")
        #expect(kernel.groupMembers(2) == [gpu, audio])
        #expect(kernel.groupMembers(1) == [PCIAddress("0000:00:01.0")!])
        #expect(kernel.groupMembers(9).isEmpty)
    }

    @Test func driverNamesThatCanReachPaths() {
        #expect(SysfsFiles.isPlainDriverName("vfio-pci") && SysfsFiles.isPlainDriverName("snd_hda_intel"))
        for bad in ["", ".", "..", "a/b", "vfio pci", "x\n", String(repeating: "a", count: 65)] {
            #expect(!SysfsFiles.isPlainDriverName(bad), "\(bad.debugDescription)")
        }
    }
}
