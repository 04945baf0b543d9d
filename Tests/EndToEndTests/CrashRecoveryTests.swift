import Foundation
import Testing
import Store
import TestSupport
import VFIOCore
import VFIOSimulator

/// Kills the real vfiod with SIGKILL at every journaled step of a lease's bind and release, restarts it
/// on the same database and the same simulated kernel, and checks that nothing was lost: every device is
/// on vfio-pci under an active lease, or on its original driver with an empty driver_override; the audit
/// shows the interruption and how it was resolved; the hash chain holds.
@Suite(.serialized) struct CrashRecoveryTests {
    static let originals: [String: String?] = ["0000:06:00.0": "e1000", "0000:06:01.0": nil]

    @Test func killingVfiodAtEveryJournaledStepLosesNothing() async throws {
        var crashesSeen = 0
        var resolutions: Set<String> = []
        var point = 1
        while point < 200 {
            let tree = try FakeSysfs.make(leaseHost())
            let database = tree.path + "/vfiod.db"
            defer { tree.remove() }
            let arguments = ["--db", database, "--simulate-in-place", tree.path, "--no-auth", "--allow", "all"]

            // Run the lease lifecycle until the process kills itself at crash point `point`.
            let doomed = try VFIODProcess(arguments: arguments, environment: ["VFIOD_TEST_CRASH_AT": "\(point)"])
            #expect(try await doomed.waitUntilListening(), "\(doomed.output)")
            let completed = await Self.lifecycle(doomed)
            if completed {
                await doomed.terminate()
                break
            }
            let exit = try await doomed.waitForExit()
            #expect(exit.signaled && exit.status == SIGKILL, "crash point \(point): \(exit)")
            crashesSeen += 1

            // Restart without the crash and check the invariants.
            let survivor = try VFIODProcess(arguments: arguments)
            #expect(try await survivor.waitUntilListening(), "restart after crash point \(point): \(survivor.output)")
            resolutions.formUnion(try await Self.checkInvariants(survivor, tree: tree.path, point: point))
            await survivor.terminate()
            point += 1
        }
        #expect(crashesSeen >= 10, "the bind and release of two endpoints have at least ten crash points")
        #expect(resolutions == ["operation.completed_on_recovery", "operation.rolled_back"],
                "some crashes were rolled back, others completed: \(resolutions)")
    }

    /// The same walk for a lease with `resetOnRelease`: a crash before the reset finished must never hand the
    /// device back unreset — it is quarantined on vfio-pci instead; after the reset, the restore completes.
    @Test func killingVfiodDuringAResetOnReleaseNeverGivesTheDeviceBackUnreset() async throws {
        let nic = "0000:03:00.0"
        var crashesSeen = 0
        var quarantinedSeen = false
        var point = 1
        while point < 200 {
            let tree = try FakeSysfs.make(resetHost())
            defer { tree.remove() }
            let arguments = ["--db", tree.path + "/vfiod.db", "--simulate-in-place", tree.path, "--no-auth", "--allow", "all"]
            let doomed = try VFIODProcess(arguments: arguments, environment: ["VFIOD_TEST_CRASH_AT": "\(point)"])
            #expect(try await doomed.waitUntilListening(), "\(doomed.output)")
            if await Self.lifecycle(doomed, target: ["device": nic, "resetOnRelease": true]) {
                await doomed.terminate()
                break
            }
            _ = try await doomed.waitForExit()
            crashesSeen += 1
            let survivor = try VFIODProcess(arguments: arguments)
            #expect(try await survivor.waitUntilListening(), "restart after crash point \(point): \(survivor.output)")
            let kernel = try SimulatedKernel(source: tree.path, inPlace: true)
            let (_, list, _) = try await survivor.send("GET", "/v1/assignments")
            let states = (list["items"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
            #expect(!states.contains("binding") && !states.contains("releasing"), "crash point \(point): \(states)")
            let (_, device, _) = try await survivor.send("GET", "/v1/devices/\(nic)")
            let state = TreeState(kernel, nic)
            switch device["state"] as? String {
            case "quarantined":
                quarantinedSeen = true
                #expect(state.driver == "vfio-pci", "crash point \(point): quarantined but \(state)")
            case "assigned":
                #expect(state.driver == "vfio-pci", "crash point \(point): \(state)")
            default:
                #expect(state.driver == "e1000e" && state.driverOverride == nil, "crash point \(point): \(state)")
                let (_, audit, _) = try await survivor.send("GET", "/v1/audit?pageSize=1000&action=operation.step")
                // A passed check is not audited; the reset's own write is, with its outcome.
                let resets = (audit["items"] as? [[String: Any]] ?? []).filter { ($0["detail"] as? String ?? "").hasSuffix(" reset") }
                if states.contains("released") {
                    #expect(resets.contains { $0["error"] is NSNull }, "crash point \(point): released without a finished reset")
                }
            }
            await survivor.terminate()
            point += 1
        }
        #expect(crashesSeen >= 8, "bind and reset-on-release have at least eight crash points")
        #expect(quarantinedSeen, "a crash during the reset quarantines the device")
    }

    /// A keyed create killed after its transaction committed and before it was answered: the retry with the
    /// same key gets the assignment that was created (not a second one), whose bind recovery ran.
    @Test func killingVfiodAfterAKeyedCreateCommittedNeverCreatesTwice() async throws {
        let tree = try FakeSysfs.make(leaseHost())
        defer { tree.remove() }
        let arguments = ["--db", tree.path + "/vfiod.db", "--simulate-in-place", tree.path, "--no-auth", "--allow", "all"]
        let body: [String: Any] = ["group": 11, "holder": ["id": "vm", "tenant": "t"]]
        let key = [("Idempotency-Key", "create-once")]

        let doomed = try VFIODProcess(arguments: arguments, environment: ["VFIOD_TEST_CRASH_ON": "assignment created"])
        #expect(try await doomed.waitUntilListening(), "\(doomed.output)")
        let lost = try? await doomed.send("POST", "/v1/assignments", json: body, headers: key)
        #expect(lost?.status != 202, "the process died before answering")
        let exit = try await doomed.waitForExit()
        #expect(exit.signaled && exit.status == SIGKILL, "\(exit): \(doomed.output)")

        let survivor = try VFIODProcess(arguments: arguments)
        #expect(try await survivor.waitUntilListening(), "\(survivor.output)")
        let retry = try await survivor.send("POST", "/v1/assignments", json: body, headers: key)
        #expect(retry.status == 202, "\(retry.body)")
        let (_, list, _) = try await survivor.send("GET", "/v1/assignments")
        let items = list["items"] as? [[String: Any]] ?? []
        #expect(items.count == 1, "one assignment, however often the request was sent: \(items)")
        #expect(items.first?["id"] as? String == retry.body["id"] as? String)
        #expect(retry.headers.header("Location") == "/v1/assignments/\(retry.body["id"] as? String ?? "?")")
        let operation = try #require(retry.headers.header("Operation-Location"))
        let bound = try await survivor.send("GET", operation + "?wait=30")
        #expect(bound.body["state"] as? String == "succeeded", "recovery ran the committed bind: \(bound.body)")
        await survivor.terminate()
    }

    /// Leases group 11 (two endpoints behind a bridge) and releases it. Returns false when the process died.
    static func lifecycle(_ vfiod: VFIODProcess, target: [String: Any] = ["group": 11]) async -> Bool {
        do {
            var body: [String: Any] = ["holder": ["id": "vm", "tenant": "t"]]
            for (key, value) in target { body[key] = value }
            let created = try await vfiod.send("POST", "/v1/assignments", json: body)
            guard created.status == 202, let bind = created.headers.header("Operation-Location") else { return false }
            let bound = try await vfiod.send("GET", bind + "?wait=30")
            guard bound.body["state"] as? String == "succeeded", let id = created.body["id"] as? String else { return false }
            let released = try await vfiod.send("DELETE", "/v1/assignments/\(id)")
            guard let release = released.headers.header("Operation-Location") else { return false }
            let done = try await vfiod.send("GET", release + "?wait=30")
            return done.body["state"] as? String == "succeeded"
        } catch {
            return false
        }
    }

    /// Returns the recovery resolutions the audit shows.
    static func checkInvariants(_ vfiod: VFIODProcess, tree: String, point: Int) async throws -> Set<String> {
        let kernel = try SimulatedKernel(source: tree, inPlace: true)
        let (_, list, _) = try await vfiod.send("GET", "/v1/assignments")
        let assignments = list["items"] as? [[String: Any]] ?? []
        let active = assignments.filter { $0["state"] as? String == "active" }
        #expect(!assignments.contains { ["binding", "releasing"].contains($0["state"] as? String) },
                "crash point \(point): nothing is left half done: \(assignments.map { $0["state"] ?? "" })")
        for (address, original) in originals {
            let state = TreeState(kernel, address)
            if active.isEmpty {
                #expect(state.driver == original && state.driverOverride == nil, "crash point \(point): \(address) \(state)")
            } else {
                #expect(state.driver == "vfio-pci" && state.driverOverride == "vfio-pci", "crash point \(point): \(address) \(state)")
            }
        }
        let (_, audit, _) = try await vfiod.send("GET", "/v1/audit?pageSize=1000")
        let actions = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        if actions.contains("operation.interrupted") {
            #expect(actions.contains("operation.completed_on_recovery") || actions.contains("operation.rolled_back"),
                    "crash point \(point): the interruption's resolution is audited: \(actions)")
        }
        let (_, verify, _) = try await vfiod.send("GET", "/v1/audit/verify")
        #expect(verify["ok"] as? Bool == true, "crash point \(point): \(verify)")
        return Set(actions.filter { $0 == "operation.completed_on_recovery" || $0 == "operation.rolled_back" })
    }
}
