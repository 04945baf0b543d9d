import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `LinuxKernel` reading a tree the simulator changed in place answers exactly as the simulator does.
struct KernelParityTests {
    @Test func linuxKernelReadsWhatTheSimulatorDid() throws {
        let tree = try FakeSysfs.make(topology: Fixtures.topologyDirectory + "/workstation.json")
        let simulated = try SimulatedKernel(source: tree.path, inPlace: true)
        let linux = LinuxKernel(paths: tree.hostPaths)
        let gpu = PCIAddress("0000:01:00.0")!, audio = PCIAddress("0000:01:00.1")!
        for member in simulated.groupMembers(2) {
            try simulated.setDriverOverride(member, to: "vfio-pci")
            try simulated.unbind(member, from: try #require(simulated.driver(of: member)))
            try simulated.probe(member)
        }
        for kernel in [simulated as any HostKernel, linux] {
            #expect(kernel.groupMembers(2) == [gpu, audio])
            #expect(kernel.driver(of: gpu) == "vfio-pci" && kernel.driver(of: audio) == "vfio-pci")
            #expect(kernel.driverOverride(of: gpu) == "vfio-pci")
            #expect(kernel.vfioCdev(of: gpu) == "vfio0" && kernel.vfioCdev(of: audio) == "vfio1")
            #expect(kernel.groupDeviceExists(2) && kernel.iommuGroup(of: audio) == 2)
            #expect(kernel.bootID() == "5b1c2f4e-8d3a-4c1e-9f0b-2a6d7e8f9a01")
        }
        #expect(try linux.scan().host.vfioGroupNodes == [2])
    }
}
