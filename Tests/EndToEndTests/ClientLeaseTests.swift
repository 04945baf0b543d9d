import Foundation
import Testing
import TestSupport
import VFIOCore

/// Leases, renewals, releases, resets and quarantine through the built binary's client commands, each
/// operation followed live with --wait, and exit 1 when an operation fails.
@Suite struct ClientLeaseTests {
    @Test func aLeaseFollowedWithWaitReachesActiveThenRenewsAndReleases() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let lease = try await cli.ok(["lease", "0000:05:00.0", "--holder", "vm-1", "--tenant", "t1", "--ttl", "1h", "--wait"])
            #expect(lease.contains("bind of group 10"), "\(lease)")
            #expect(lease.contains("step 1 set_override 0000:05:00.0 → vfio-pci  done in"), "\(lease)")
            #expect(lease.contains("step 4 verify_group group"), "\(lease)")
            #expect(lease.contains("succeeded after"), "\(lease)")
            #expect(lease.contains(": active, expires"), "\(lease)")
            let assignments = try await service.items("/v1/assignments?holder=vm-1")
            #expect(assignments.map { $0["state"] as? String } == ["active"])
            let id = try #require(assignments.first?["id"] as? String)
            #expect(assignments.first?["ttlSeconds"] as? Int == 3600)

            let renewed = try await cli.run(["renew", id, "--ttl", "2h", "-o", "json"])
            #expect(renewed.status == 0, "\(renewed)")
            #expect(jsonObject(renewed.out)["ttlSeconds"] as? Int == 7200)
            #expect(renewed.outBody == (try await apiBody(service, "/v1/assignments/\(id)")), "renew -o json is the API's answer")
            let stale = try await cli.run(["renew", id, "--ttl", "2h", "--generation", "1"])
            #expect(stale.status == 3, "\(stale)")
            #expect(stale.err.contains("precondition_failed"), "\(stale.err)")

            let release = try await cli.ok(["release", id, "--wait"])
            #expect(release.contains("release of group 10"), "\(release)")
            #expect(release.contains("clear_override 0000:05:00.0"), "\(release)")
            #expect(release.contains(": released"), "\(release)")
            #expect(try await service.json("/v1/assignments/\(id)")["state"] as? String == "released")
        }
    }

    @Test func withJSONAndWaitTheFinalAssignmentIsPrintedAloneAndAnOperationCanBeFollowed() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let result = try await cli.run(["lease", "--group", "11", "--holder", "vm-2", "--tenant", "t1", "--ttl", "30m", "--wait", "-o", "json"])
            #expect(result.status == 0, "\(result)")
            let assignment = jsonObject(result.out)
            #expect(assignment["state"] as? String == "active", "\(result.out)")
            let id = try #require(assignment["id"] as? String)
            #expect(result.outBody == (try await apiBody(service, "/v1/assignments/\(id)")))

            let released = try await cli.ok(["release", id])
            #expect(released.contains(": releasing"), "\(released)")
            let operation = try #require(released.split(separator: " ").first { $0.hasPrefix("op_") }.map { String($0.prefix(27)) })
            let follow = try await cli.run(["operation", operation, "--follow"])
            #expect(follow.status == 0, "\(follow)")
            #expect(follow.out.contains("release of group 11") && follow.out.contains("succeeded"), "\(follow.out)")
            let json = try await cli.run(["operation", operation, "--follow", "-o", "json"])
            #expect(json.status == 0, "\(json)")
            #expect(json.outBody == (try await apiBody(service, "/v1/operations/\(operation)")), "the final operation, as the API has it")
        }
    }

    @Test func aFailedBindExitsOneWithItsError() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            try kernel.injectFault(.probeLeavesDriverless(PCIAddress("0000:06:01.0")!))
            let result = try await ClientRunner(port: service.port)
                .run(["lease", "--group", "11", "--holder", "vm-1", "--tenant", "t1", "--ttl", "1h", "--wait"])
            #expect(result.status == 1, "\(result)")
            #expect(result.out.contains("failed"), "\(result.out)")
            #expect(result.err.hasPrefix("vfiod: operation op_") && result.err.contains(" failed: "), "\(result.err)")
        }
    }

    @Test func aResetThatFailsQuarantinesAndQuarantineClearGivesTheDeviceBack() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: ["all"])) { service in
            let cli = ClientRunner(port: service.port)
            let kernel = try #require(service.simulator)
            let nic = "0000:03:00.0"
            let id = try await service.lease(["device": nic])
            let reset = try await cli.ok(["reset", nic, "--wait"])
            #expect(reset.contains("reset of \(nic)") && reset.contains("succeeded"), "\(reset)")
            try kernel.injectFault(.deadAfterReset(PCIAddress(nic)!))
            let failed = try await cli.run(["reset", nic, "--wait"])
            #expect(failed.status == 1, "\(failed)")
            #expect(failed.err.contains("failed"), "\(failed.err)")
            #expect(try await service.deviceState(nic) == "quarantined")
            _ = try await service.release(id)
            try kernel.clearFaults()
            let cleared = try await cli.ok(["quarantine", "clear", nic, "--wait"])
            #expect(cleared.contains("restore of \(nic)") && cleared.contains("succeeded"), "\(cleared)")
            #expect(try await service.deviceState(nic) == "available")
            let again = try await cli.run(["quarantine", "clear", nic])
            #expect(again.status == 3 && again.err.contains("not_quarantined"), "\(again)")
        }
    }
}
