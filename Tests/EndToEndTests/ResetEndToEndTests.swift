import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// The reset preview, resets, quarantine and its admin clear, on the simulated kernel.
@Suite struct ResetEndToEndTests {
    static let allow = ["8086:*", "1234:*", "1b36:*"]

    @Test func theScopeOfAFunctionResetIsTheFunctionAndOnlyItsLeaseMayResetIt() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let free = try await service.json("/v1/devices/0000:01:00.0/reset-scope")
            #expect(free["method"] as? String == "function")
            #expect((free["devices"] as? [[String: Any]])?.map { $0["address"] as? String } == ["0000:01:00.0"])
            #expect(free["canReset"] as? Bool == false)
            let reasons = (free["blockers"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            #expect(reasons.contains { $0.contains("not leased") }, "\(reasons)")

            let id = try await service.lease(["device": "0000:01:00.0"])
            let leased = try await service.json("/v1/devices/0000:01:00.0/reset-scope")
            #expect(leased["canReset"] as? Bool == true, "\(leased)")
            #expect(leased["assignmentId"] as? String == id)
            let device = try #require((leased["devices"] as? [[String: Any]])?.first)
            #expect(device["owner"] as? String == "this-assignment")
            #expect(device["driver"] as? String == "vfio-pci")

            let (accepted, operation) = try await service.send("POST", "/v1/devices/0000:01:00.0/reset")
            #expect(accepted.status == 202, "\(accepted.bodyText)")
            #expect(operation["kind"] as? String == "reset")
            let done = try await service.finish(operation: accepted.header("Operation-Location"))
            #expect(done["state"] as? String == "succeeded", "\(done)")
            let reset = try #require(done["reset"] as? [String: Any])
            #expect(reset["method"] as? String == "function")
            let actions = (done["steps"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions == ["reset", "verify_responds"])
            #expect(try await service.deviceState("0000:01:00.0") == "assigned")
        }
    }

    @Test func twoGroupsSharingABusNeedBothAndAnotherAssignmentIsNamed() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let preview = try await service.json("/v1/devices/0000:02:00.0/reset-scope")
            #expect(preview["method"] as? String == "hot")
            #expect(preview["groups"] as? [Int] == [23, 24])
            let scope = (preview["devices"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
            #expect(scope == ["0000:02:00.0", "0000:02:00.1"])

            let mine = try await service.lease(["group": 23])
            let half = try await service.json("/v1/devices/0000:02:00.0/reset-scope")
            #expect(half["canReset"] as? Bool == false)
            let owners = (half["devices"] as? [[String: Any]] ?? []).map { $0["owner"] as? String }
            #expect(owners == ["this-assignment", "free"])

            let other = try await service.lease(["group": 24])
            let contested = try await service.json("/v1/devices/0000:02:00.0/reset-scope")
            let blockers = contested["blockers"] as? [[String: Any]] ?? []
            #expect(blockers.contains { ($0["address"] as? String) == "0000:02:00.1" && (($0["reason"] as? String) ?? "").contains(other) },
                    "\(blockers)")
            let (refused, problem) = try await service.send("POST", "/v1/devices/0000:02:00.0/reset")
            #expect(refused.status == 409)
            #expect(problem["code"] as? String == "reset_not_possible")
            #expect((problem["blockers"] as? [String] ?? []).contains { $0.contains(other) })
            _ = mine
        }
    }

    @Test func aFailedResetQuarantinesUntilAnAdminClearsIt() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let kernel = try #require(service.simulator)
            let nic = "0000:03:00.0"
            let id = try await service.lease(["device": nic])
            try kernel.injectFault(.deadAfterReset(PCIAddress(nic)!))
            let (accepted, _) = try await service.send("POST", "/v1/devices/\(nic)/reset")
            let failed = try await service.finish(operation: accepted.header("Operation-Location"))
            #expect(failed["state"] as? String == "failed")
            #expect((failed["error"] as? String ?? "").contains("0xffff"), "\(failed)")
            #expect(try await service.deviceState(nic) == "quarantined")

            // The release gives back nothing quarantined: the NIC stays on vfio-pci.
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            #expect(TreeState(kernel, nic).driver == "vfio-pci")
            #expect(try await service.deviceState(nic) == "quarantined")
            let (refused, problem) = try await service.send("POST", "/v1/assignments",
                                                            json: ["device": nic, "holder": ["id": "vm-2", "tenant": "t1"]])
            #expect(refused.status == 409)
            #expect(problem["code"] as? String == "group_not_assignable")

            try kernel.clearFaults()
            let (cleared, _) = try await service.send("DELETE", "/v1/devices/\(nic)/quarantine")
            #expect(cleared.status == 202, "\(cleared.bodyText)")
            let restore = try await service.finish(operation: cleared.header("Operation-Location"))
            #expect(restore["state"] as? String == "succeeded", "\(restore)")
            #expect(restore["kind"] as? String == "restore")
            #expect(TreeState(kernel, nic) == TreeState(driver: "e1000e", driverOverride: nil, groupNode: false))
            #expect(try await service.deviceState(nic) == "available")
            let (again, problem2) = try await service.send("DELETE", "/v1/devices/\(nic)/quarantine")
            #expect(again.status == 404)
            #expect(problem2["code"] as? String == "not_quarantined")

            let actions = try await service.items("/v1/audit?device=\(nic)").compactMap { $0["action"] as? String }
            #expect(actions.contains("device.quarantined"))
            #expect(actions.contains("device.quarantine_cleared"))
        }
    }

    @Test func resetOnReleaseResetsBeforeTheDeviceGoesBack() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let kernel = try #require(service.simulator)
            let id = try await service.lease(["device": "0000:03:00.0"], ["resetOnRelease": true])
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let actions = (release["steps"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            let reset = try #require(actions.firstIndex(of: "reset"))
            let unbind = try #require(actions.lastIndex(of: "unbind"))
            #expect(reset < unbind, "\(actions)")
            #expect(TreeState(kernel, "0000:03:00.0").driver == "e1000e")
            #expect(try await service.deviceState("0000:03:00.0") == "available")
        }
    }

    @Test func aResetOnReleaseThatFailsLeavesTheDeviceQuarantinedOnVFIO() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let kernel = try #require(service.simulator)
            let nvme = "0000:04:00.0"
            let preview = try await service.json("/v1/devices/\(nvme)/reset-scope")
            #expect(preview["method"] as? String == "hot")
            let id = try await service.lease(["device": nvme], ["resetOnRelease": true])
            try kernel.injectFault(.hotResetFails(PCIAddress(nvme)!))
            let release = try await service.release(id)
            #expect(release["state"] as? String == "failed")
            #expect((release["error"] as? String ?? "").contains("ENOTTY"), "\(release)")
            let assignment = try await service.json("/v1/assignments/\(id)")
            #expect(assignment["state"] as? String == "released")
            #expect((assignment["failure"] as? String ?? "").contains("quarantined"), "\(assignment)")
            #expect(TreeState(kernel, nvme).driver == "vfio-pci")
            #expect(try await service.deviceState(nvme) == "quarantined")
        }
    }

    @Test func aResetWhoseScopeReachesOutsideTheLeaseIsNotAttemptedOnRelease() async throws {
        try await withService(try await TestService(simulatedHost: resetHost(), allow: Self.allow)) { service in
            let id = try await service.lease(["group": 23], ["resetOnRelease": true])
            let release = try await service.release(id)
            #expect(release["state"] as? String == "failed")
            #expect((release["error"] as? String ?? "").contains("0000:02:00.1"), "\(release)")
            let actions = (release["steps"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(!actions.contains("reset"))
            #expect(try await service.deviceState("0000:02:00.0") == "quarantined")
        }
    }
}
