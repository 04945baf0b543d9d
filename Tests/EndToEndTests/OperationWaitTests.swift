import Foundation
import Testing
import Store
import TestSupport
import VFIOCore

/// Long-polls (`?wait=`) on an operation that is still queued or running in this process: answered
/// without a first read of the store, with the same answers and the same tenant isolation.
@Suite struct OperationWaitTests {
    @Test func aLongPollOnARunningOperationKeepsTenantsApartAndEndsWithTheFinish() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let kernel = try #require(service.simulator)
            let database = try Database(path: service.service.configuration.databasePath)
            let tokens = TokenStore(database: database)
            let own = try tokens.create(name: "orch-1", role: .operator, tenant: "t1").token
            let other = try tokens.create(name: "orch-2", role: .operator, tenant: "t2").token
            let viewer = try tokens.create(name: "dash", role: .viewer).token
            // The bind's worker blocks inside the kernel on the e1000's unbind: the operation is running.
            let device = PCIAddress("0000:06:00.0")!
            try kernel.injectFault(.unbindBlocks(device))
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "a", "tenant": "t1"]],
                                                 token: own)
            #expect(created.response.status == 202)
            let location = try #require(created.response.header("Operation-Location"))
            kernel.waitForBlockedUnbind(of: device)

            // Another tenant's operator learns nothing of it, waiting or not.
            let hidden = try await service.send("GET", location + "?wait=30", token: other)
            #expect(hidden.response.status == 404)
            #expect(hidden.body["code"] as? String == "assignment_not_found")
            // Its own tenant and a viewer see it as it stands when their wait ends.
            let running = try await service.send("GET", location + "?wait=0.1", token: own)
            #expect(running.response.status == 200)
            #expect(running.body["state"] as? String == "running")
            #expect(try await service.send("GET", location + "?wait=0.1", token: viewer).body["state"] as? String == "running")

            // A long-poll under way gets the finish.
            async let waited = service.send("GET", location + "?wait=30", token: own)
            try kernel.releaseBlockedUnbinds()
            try kernel.clearFaults()
            let finished = try await waited
            #expect(finished.response.status == 200)
            let state = finished.body["state"] as? String
            #expect(state == "succeeded" || state == "running", "\(finished.response.bodyText)")
            #expect(try await service.finish(operation: location, token: own)["state"] as? String == "succeeded")
            // Once finished, the same answers come from the store.
            #expect(try await service.send("GET", location + "?wait=30", token: other).response.status == 404)
        }
    }
}
