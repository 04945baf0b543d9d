import Foundation
import Testing
import Inventory
import TestSupport
import VFIOCore
import VFIOSimulator

/// How the inventory learns of changes at idle: a uevent re-reads its function alone, the periodic
/// driver check finds what no uevent reported, and only functions that come or go cost a full scan.
@Suite struct InventoryRefreshTests {
    @Test func aUeventRereadsItsFunctionAloneWithoutAFullScan() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            let inventory = service.service.inventory
            let nic = PCIAddress("0000:06:00.0")!
            let before = inventory.activity
            let generation = inventory.current.generation
            // Someone unbinds e1000 by hand: the kernel sends an `unbind` uevent, and nothing else happens.
            try kernel.unbind(nic, from: "e1000")
            await inventory.settle()
            let after = inventory.activity
            #expect(after.fullScans == before.fullScans)
            #expect(after.driverChecks == before.driverChecks)
            #expect(after.devicesReread == before.devicesReread + 1)
            let snapshot = inventory.current
            #expect(snapshot.generation == generation + 1)
            let position = try #require(snapshot.devices.firstIndex { $0.address == nic })
            #expect(snapshot.changes?.devices == [position], "the snapshot is derived, with that function alone changed")
            #expect(try await service.json("/v1/devices/0000:06:00.0")["driver"] is NSNull)
        }
    }

    @Test func aUeventForAFunctionInsideAnOperationIsLeftToTheOperation() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let inventory = service.service.inventory
            let before = inventory.activity
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:05:00.0", "holder": ["id": "a", "tenant": "t"]])
            let operation = try await service.finish(operation: created.response.header("Operation-Location"))
            #expect(operation["state"] as? String == "succeeded")
            await inventory.settle()
            // The bind's uevent came while the device was binding: its operation re-read it, not the uevent.
            #expect(inventory.activity.devicesReread == before.devicesReread)
            #expect(inventory.activity.fullScans == before.fullScans)
            #expect(try await service.json("/v1/devices/0000:05:00.0")["driver"] as? String == "vfio-pci")
        }
    }

    @Test func theDriverCheckFindsAChangeNoUeventReported() async throws {
        let tree = try FakeSysfs.make(richHost())
        defer { tree.remove() }
        try await withService(try await TestService(hostRoot: tree.path)) { service in
            let inventory = service.service.inventory
            let before = inventory.activity
            // Moved by hand in a tree beneath another root: no uevent says so.
            try SysfsTreeBuilder(root: tree.path).setDriver("vfio-pci", for: PCIAddress("0000:05:01.0")!)
            await inventory.settle()
            #expect(inventory.current.device(PCIAddress("0000:05:01.0")!)?.facts.driver == nil)
            let snapshot = await inventory.check()
            #expect(snapshot.device(PCIAddress("0000:05:01.0")!)?.facts.driver == "vfio-pci")
            let after = inventory.activity
            #expect(after.fullScans == before.fullScans, "a changed driver is re-read, not the whole host")
            #expect(after.driverChecks == before.driverChecks + 1)
            #expect(after.devicesReread == before.devicesReread + 1)
            #expect(try await service.json("/v1/devices/0000:05:01.0")["driver"] as? String == "vfio-pci")
        }
    }

    @Test func aFunctionThatWentAwayCostsAFullScan() async throws {
        let tree = try FakeSysfs.make(richHost())
        defer { tree.remove() }
        try await withService(try await TestService(hostRoot: tree.path)) { service in
            let inventory = service.service.inventory
            let before = inventory.activity
            // The orphan is hot-unplugged: its bus entry goes (on Linux a `remove` uevent says so).
            #expect(unlink(tree.path + "/sys/bus/pci/devices/0000:06:00.0") == 0)
            let snapshot = await inventory.check()
            #expect(snapshot.device(PCIAddress("0000:06:00.0")!) == nil)
            #expect(inventory.activity.fullScans == before.fullScans + 1)
            let gone = try await service.get("/v1/devices/0000:06:00.0")
            #expect(gone.status == 404)
        }
    }

    @Test(.timeLimit(.minutes(1))) func theTimerRunsTheDriverCheck() async throws {
        let kernel = try SimulatedKernel(host: richHost())
        defer { kernel.close() }
        let inventory = InventoryService(kernel: kernel, builder: InventoryBuilder(allowlist: Allowlist([try AllowSpec(parsing: "all")])),
                                         intervalSeconds: 1)
        try await runOnDedicatedThread { try inventory.start() }
        defer { inventory.stop() }
        let generation = inventory.current.generation
        // By hand, as a missed uevent would leave it; nobody asks for a check: the timer runs it.
        try kernel.builder.setDriver("vfio-pci", for: PCIAddress("0000:05:01.0")!)
        let snapshot = await inventory.snapshot(after: generation)
        #expect(snapshot.device(PCIAddress("0000:05:01.0")!)?.facts.driver == "vfio-pci")
        #expect(inventory.activity.fullScans == 1, "only the scan at start")
        #expect(inventory.activity.driverChecks >= 1)
    }
}
