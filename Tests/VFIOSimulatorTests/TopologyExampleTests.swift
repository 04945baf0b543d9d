import Foundation
import Testing
import VFIOCore
import VFIOSimulator

/// `examples/topologies/` beside `Package.swift`, found from this file's path.
let topologyDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
    }
    return url.appendingPathComponent("examples/topologies").path
}()

struct TopologyExampleTests {
    @Test func workstation() throws {
        let kernel = try SimulatedKernel(source: topologyDirectory + "/workstation.json")
        defer { kernel.close() }
        #expect(kernel.backend == "simulated")
        let scan = try kernel.scan()
        #expect(scan.devices.count == 10)
        let byAddress = Dictionary(uniqueKeysWithValues: scan.devices.map { ($0.address.description, $0) })
        #expect(byAddress["0000:00:02.0"]?.bootVGA == true)
        #expect(byAddress["0000:02:00.0"]?.mountedBlockDevices == ["nvme0n1"])
        #expect(byAddress["0000:03:00.0"]?.carriesDefaultRoute == true)
        #expect(scan.groups[2]?.map(\.description) == ["0000:01:00.0", "0000:01:00.1"])
        #expect(byAddress["0000:01:00.0"]?.serialNumber == "00-00-00-00-00-00-26-84")
        #expect(scan.host.kernelRelease == "6.8.0-45-generic")
        #expect(scan.notes.isEmpty)
    }

    @Test func gpuServer() throws {
        let kernel = try SimulatedKernel(source: topologyDirectory + "/gpu-server.json")
        defer { kernel.close() }
        let scan = try kernel.scan()
        let gpus = scan.devices.filter { $0.vendorID == 0x10de && $0.classCode == 0x030000 }
        #expect(gpus.count == 8)
        #expect(Set(gpus.compactMap(\.numaNode)) == [0, 1])
        for gpu in gpus {
            let group = try #require(gpu.iommuGroup)
            #expect(scan.groups[group]?.count == 2, "GPU \(gpu.address) shares its group with its audio function")
        }
        let pfs = scan.devices.filter { $0.totalVFs != nil }
        #expect(pfs.count == 2 && pfs.allSatisfy { $0.virtfns.count == 4 })
        #expect(pfs.filter(\.carriesDefaultRoute).count == 1)
        #expect(scan.devices.filter { $0.physfn != nil }.count == 8)
        #expect(scan.devices.filter { !$0.mountedBlockDevices.isEmpty }.map(\.address.description) == ["0000:44:00.0"])
        let console = try #require(scan.devices.first { $0.bootVGA })
        #expect(console.vendorID == 0x1a03)
        #expect(scan.groups[console.iommuGroup!]?.count == 3)
        #expect(console.sysfsPath.hasSuffix("pci0000:00/0000:00:07.0/0000:60:00.0/0000:61:00.0"))
        #expect(scan.host.vfioGroupNodes.count == 4)  // the four VFs on vfio-pci
    }

    @Test func stressHostHas4096Functions() throws {
        let kernel = try SimulatedKernel(source: topologyDirectory + "/stress-4096.json")
        defer { kernel.close() }
        let scan = try kernel.scan()
        #expect(scan.devices.count == 4096)
        #expect(scan.devices.filter { $0.driver == "vfio-pci" }.count == 2040)
        #expect(scan.host.vfioGroupNodes.count == 2040)
        #expect(scan.devices.filter(\.isBridge).count == 16)
        #expect(Set(scan.devices.compactMap(\.iommuGroup)).count == 4096)
    }

    @Test func everyExampleIsValid() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: topologyDirectory).filter { $0.hasSuffix(".json") }
        #expect(names.count >= 3)
        for name in names {
            let host = try Topology.load(path: topologyDirectory + "/" + name)
            #expect(!host.devices.isEmpty, "\(name)")
        }
    }
}
