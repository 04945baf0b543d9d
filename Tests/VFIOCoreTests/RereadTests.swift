import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// A rescan after a bind re-reads only what binds change, and ends where a full scan of the same tree does.
struct RereadTests {
    @Test func aRescanAfterDriverChangesEqualsAFullScan() throws {
        let kernel = try SimulatedKernel(host: FakeTreeScanTests.host())
        defer { kernel.close() }
        var scan = try kernel.scan()
        // The NIC goes to vfio-pci, the driverless VF too, and the GPU back to no driver with its override
        // cleared.
        let nic = PCIAddress("0000:00:05.0")!, vf = PCIAddress("0000:00:03.2")!, gpu = PCIAddress("0000:01:00.0")!
        for address in [nic, vf] {
            try kernel.setDriverOverride(address, to: "vfio-pci")
            if let driver = kernel.driver(of: address) { try kernel.unbind(address, from: driver) }
            try kernel.probe(address)
        }
        try kernel.setDriverOverride(gpu, to: nil)
        try kernel.unbind(gpu, from: "vfio-pci")
        let changed = kernel.rescan([nic, vf, gpu], updating: &scan)
        let fresh = try kernel.scan()
        #expect(Set(changed) == [nic, vf, gpu])
        #expect(scan.devices == fresh.devices)
        #expect(scan.host.vfioGroupNodes == fresh.host.vfioGroupNodes)
        #expect(scan.devices.first { $0.address == nic }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == gpu }?.driverOverride == nil)
    }
}
