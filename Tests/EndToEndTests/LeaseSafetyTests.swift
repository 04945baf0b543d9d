import Foundation
import Testing
import Store
import TestSupport
import VFIOCore
import VFIOSimulator

@Suite struct LeaseSafetyTests {
    @Test func aFullWorkerQueueAnswers503WithRetryAfterAndRecordsTheRefusal() async throws {
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist) { configuration in
            configuration.workerThreads = 1
            configuration.workerQueueLimit = 1
        }
        try await withService(service) { service in
            let kernel = try #require(service.simulator)
            // The only worker blocks inside the kernel on the e1000's unbind.
            try kernel.injectFault(.unbindBlocks(PCIAddress("0000:06:00.0")!))
            let blocked = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "a", "tenant": "t"]])
            #expect(blocked.response.status == 202)
            kernel.waitForBlockedUnbind(of: PCIAddress("0000:06:00.0")!)
            let queued = try await service.send("POST", "/v1/assignments", json: ["group": 10, "holder": ["id": "b", "tenant": "t"]])
            #expect(queued.response.status == 202)
            let refused = try await service.send("POST", "/v1/assignments", json: ["group": 13, "holder": ["id": "c", "tenant": "t"]])
            #expect(refused.response.status == 503)
            #expect(refused.response.header("Retry-After") == "1")
            #expect(refused.body["code"] as? String == "queue_full")
            // Reads keep being answered while a kernel write is blocked.
            #expect(try await service.get("/v1/devices").status == 200)
            let (_, failed) = try await service.send("GET", "/v1/assignments?state=failed")
            #expect((failed["items"] as? [[String: Any]])?.first?["failure"] as? String == "the worker queue is full")
            try kernel.releaseBlockedUnbinds()
            try kernel.clearFaults()
            let first = try await service.finish(operation: blocked.response.header("Operation-Location"))
            #expect(first["state"] as? String == "succeeded")
            let second = try await service.finish(operation: queued.response.header("Operation-Location"))
            #expect(second["state"] as? String == "succeeded")
        }
    }

    @Test func aDriverChangedOutsideVfiodIsAudited() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:07:01.0", "holder": ["id": "a", "tenant": "t"]])
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            // Someone unbinds the leased VF and rebinds a host driver behind vfiod's back.
            let vf = PCIAddress("0000:07:01.0")!
            try kernel.unbind(vf, from: "vfio-pci")
            try kernel.setDriverOverride(vf, to: nil)
            try kernel.probe(vf)
            _ = await service.service.inventory.refresh()
            let (_, audit) = try await service.send("GET", "/v1/audit?action=device.driver_changed_outside")
            // The uevents may be read one by one (vfio-pci → none, then none → iavf) or after both
            // changes (vfio-pci → iavf): either way the change away from vfio-pci and the final driver are there.
            let entries = try #require(audit["items"] as? [[String: Any]])
            #expect(!entries.isEmpty && entries.count <= 2)
            for entry in entries {
                #expect(entry["device"] as? String == "0000:07:01.0")
                #expect(entry["assignment"] as? String == created.body["id"] as? String)
            }
            #expect(entries.contains { ($0["before"] as? [String: String])?["driver"] == "vfio-pci" })
            #expect(entries.contains { ($0["after"] as? [String: String])?["driver"] == "iavf" })
        }
    }

    @Test func afterARebootLeasesAreReverifiedAndBrokenOnesAreLost() async throws {
        let tree = try FakeSysfs.make(leaseHost())
        defer { tree.remove() }
        let arguments = ["--db", tree.path + "/vfiod.db", "--simulate-in-place", tree.path, "--no-auth", "--allow", "all"]
        let first = try VFIODProcess(arguments: arguments)
        #expect(try await first.waitUntilListening())
        let created = try await first.send("POST", "/v1/assignments", json: ["device": "0000:05:00.0", "holder": ["id": "a", "tenant": "t"]])
        let bind = try #require(created.headers.header("Operation-Location"))
        #expect(try await first.send("GET", bind + "?wait=30").body["state"] as? String == "succeeded")
        await first.terminate()

        try SimulatedKernel(source: tree.path, inPlace: true).simulateReboot()
        let second = try VFIODProcess(arguments: arguments)
        #expect(try await second.waitUntilListening(), "\(second.output)")
        let id = try #require(created.body["id"] as? String)
        let (_, lost, _) = try await second.send("GET", "/v1/assignments/\(id)")
        #expect(lost["state"] as? String == "lost")
        #expect((lost["failure"] as? String)?.contains("rebooted") == true)
        let (_, audit, _) = try await second.send("GET", "/v1/audit?action=assignment.lost")
        #expect((audit["items"] as? [Any])?.count == 1)
        let (_, device, _) = try await second.send("GET", "/v1/devices/0000:05:00.0")
        #expect(device["state"] as? String == "available")
        await second.terminate()
    }
}
