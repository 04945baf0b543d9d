import Foundation
import Testing
import VFIOCore
import VFIOSimulator

struct SimulatedKernelTests {
    @Test func copiesADirectoryTreeWithLinksAndCleansUp() throws {
        let original = try SimulatedKernel(source: topologyDirectory + "/workstation.json")
        defer { original.close() }
        let copy = try SimulatedKernel(source: original.paths.root)
        let scan = try copy.scan()
        #expect(copy.paths.root != original.paths.root)
        #expect(scan.devices.count == 10)
        #expect(try SysfsFiles.readLink(copy.paths.sys("bus/pci/devices/0000:00:02.0")) == "../../../devices/pci0000:00/0000:00:02.0")
        copy.close()
        #expect(!FileManager.default.fileExists(atPath: copy.paths.root))
    }

    @Test func setDriverMovesLinksAndVFIONodes() throws {
        let kernel = try SimulatedKernel(source: topologyDirectory + "/workstation.json")
        defer { kernel.close() }
        let gpu = PCIAddress("0000:01:00.0")!
        let audio = PCIAddress("0000:01:00.1")!
        try kernel.builder.setDriver("vfio-pci", for: gpu)
        try kernel.builder.setDriver("vfio-pci", for: audio)
        var scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == gpu }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == gpu }?.vfioCdev == "vfio0")
        #expect(scan.devices.first { $0.address == audio }?.vfioCdev == "vfio1")
        #expect(scan.host.vfioGroupNodes == [2])
        #expect(try SysfsFiles.readLink(kernel.paths.sys("bus/pci/drivers/vfio-pci/0000:01:00.0")) == "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0")

        try kernel.builder.setDriver(nil, for: gpu)
        scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == gpu }?.driver == nil)
        #expect(scan.host.vfioGroupNodes == [2], "the audio function still holds the group")
        try kernel.builder.setDriver("snd_hda_intel", for: audio)
        scan = try kernel.scan()
        #expect(scan.host.vfioGroupNodes.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: kernel.paths.dev("vfio/devices/vfio1")))
        #expect(scan.devices.first { $0.address == audio }?.driver == "snd_hda_intel")
    }

    @Test func iommuGroupLinksAreRelativeWithTheRightDepth() throws {
        let kernel = try SimulatedKernel(source: topologyDirectory + "/workstation.json")
        defer { kernel.close() }
        let link = kernel.paths.root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group"
        #expect(try SysfsFiles.readLink(link) == "../../../../kernel/iommu_groups/2")
        #expect(try SysfsFiles.readLink(kernel.paths.root + "/sys/devices/pci0000:00/0000:00:02.0/iommu_group") == "../../../kernel/iommu_groups/3")
        #expect(try SysfsFiles.readString(kernel.paths.sys("devices/pci0000:00/0000:00:02.0/vendor")) == "0x8086")
        #expect(try SysfsFiles.readBytes(kernel.paths.sys("devices/pci0000:00/0000:00:02.0/class")) == Array("0x030000\n".utf8))
        #expect(try SysfsFiles.readBytes(kernel.paths.sys("devices/pci0000:00/0000:00:14.0/driver_override")) == Array("(null)\n".utf8))
        #expect(try SysfsFiles.readBytes(kernel.paths.sys("devices/pci0000:00/0000:00:06.0/0000:02:00.0/reset_method")) == Array("flr bus\n".utf8))
    }
}
