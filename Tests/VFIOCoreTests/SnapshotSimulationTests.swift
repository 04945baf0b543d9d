import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// The simulator reacting on a real machine's partial tree (ghw snapshot: no `sys/kernel/iommu_groups`,
/// no `driver_override` files, no `dev/`, vfio-pci not loaded), used in place.
struct SnapshotSimulationTests {
    @Test func bindAndRestoreOnTheLaptopSnapshot() throws {
        let root = try Fixtures.unpackSnapshot("linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d")
        let kernel = try SimulatedKernel(source: root.path, inPlace: true)
        let wifi = PCIAddress("0000:00:14.3")!
        let usb = PCIAddress("0000:00:0d.0")!, thunderbolt = PCIAddress("0000:00:0d.2")!
        #expect(kernel.nativeDriver(of: wifi) == "iwlwifi")
        #expect(kernel.groupMembers(8) == [usb, thunderbolt, PCIAddress("0000:00:0d.3")!])

        try kernel.setDriverOverride(wifi, to: "vfio-pci")
        try kernel.unbind(wifi, from: "iwlwifi")
        try kernel.probe(wifi)
        #expect(kernel.driver(of: wifi) == nil, "vfio-pci is not loaded on this machine")

        // modprobe vfio-pci: the driver directory appears.
        let driverDirectory = root.path + "/sys/bus/pci/drivers/vfio-pci"
        try FileManager.default.createDirectory(atPath: driverDirectory, withIntermediateDirectories: true)
        for control in ["bind", "unbind"] { _ = FileManager.default.createFile(atPath: driverDirectory + "/" + control, contents: nil) }
        try kernel.probe(wifi)
        var scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == wifi }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == wifi }?.vfioCdev == nil, "no dev/vfio/devices: no cdev")
        #expect(scan.host.vfioGroupNodes == [10])

        for member in [usb, thunderbolt] {
            try kernel.setDriverOverride(member, to: "vfio-pci")
            try kernel.unbind(member, from: try #require(kernel.driver(of: member)))
            try kernel.probe(member)
        }
        try kernel.setDriverOverride(usb, to: nil)
        try kernel.unbind(usb, from: "vfio-pci")
        try kernel.probe(usb)
        #expect(kernel.groupDeviceExists(8), "thunderbolt still holds group 8 (members found through device links)")

        for member in [wifi, thunderbolt] {
            try kernel.setDriverOverride(member, to: nil)
            try kernel.unbind(member, from: "vfio-pci")
            try kernel.probe(member)
        }
        scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == wifi }?.driver == "iwlwifi")
        #expect(scan.devices.first { $0.address == usb }?.driver == "xhci_hcd")
        #expect(scan.devices.first { $0.address == thunderbolt }?.driver == "thunderbolt")
        #expect(scan.host.vfioGroupNodes.isEmpty)
        kernel.close()
        #expect(FileManager.default.fileExists(atPath: root.path + "/sys/bus/pci/devices/0000:00:14.3"))
    }
}
