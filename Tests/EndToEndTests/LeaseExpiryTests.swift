import Foundation
import Testing
import Inventory
import VFIOCore

/// The expiry loop sleeps until the earliest lease falls due instead of looking every second: a lease
/// still expires on its own when its time comes.
@Suite struct LeaseExpiryTests {
    @Test(.timeLimit(.minutes(1))) func aLeaseExpiresOnItsOwnWhenItsTimeComes() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let vf = PCIAddress("0000:07:01.0")!
            let created = try await service.send("POST", "/v1/assignments", json: ["device": vf.description, "holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 1])
            let bind = try await service.finish(operation: created.response.header("Operation-Location"))
            #expect(bind["state"] as? String == "succeeded")
            let id = try #require(created.body["id"] as? String)
            // Nobody calls expireDue: the loop, asleep since start with no lease, was woken by the lease
            // becoming active and sleeps until it falls due. Each snapshot is awaited, none is polled for.
            let inventory = service.service.inventory
            var snapshot = inventory.current
            while snapshot.device(vf)?.state == .assigned {
                snapshot = await inventory.snapshot(after: snapshot.generation)
            }
            let operations = try await service.service.assignments.operations(ofAssignment: id)
            let release = try #require(operations.last)
            #expect(release.kind == .release)
            let finished = try await service.finish(operation: "/v1/operations/\(release.id)")
            #expect(finished["state"] as? String == "succeeded")
            let (_, audit) = try await service.send("GET", "/v1/audit?action=assignment.expired")
            #expect((audit["items"] as? [[String: Any]])?.count == 1)
        }
    }
}
