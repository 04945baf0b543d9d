import Foundation
import Testing
import Store
import TestSupport
import VFIOCore
import VFIOSimulator

/// Kills the real vfiod with SIGKILL between every two kernel writes of a lease's bind and release (before
/// an operation's first write and after each one: ``CrashPoints``), restarts it on the same database and the
/// same simulated kernel, and checks that nothing was lost: every device is on vfio-pci under an active
/// lease, or on its original driver with an empty driver_override; an operation caught half-way is audited
/// as interrupted and resolved; the hash chain holds.
@Suite(.serialized) struct CrashRecoveryTests {
    static let originals: [String: String?] = ["0000:06:00.0": "e1000", "0000:06:01.0": nil]

    /// Group 11 has an endpoint with a driver (e1000) and one without: both kinds of bind and restore.
    @Test func killingVfiodBetweenEveryTwoKernelWritesLosesNothing() async throws {
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
            let halfWay = try Self.isHalfWay(tree: tree.path)

            // Restart without the crash and check the invariants.
            let survivor = try VFIODProcess(arguments: arguments)
            #expect(try await survivor.waitUntilListening(), "restart after crash point \(point): \(survivor.output)")
            let resolved = try await Self.checkInvariants(survivor, tree: tree.path, point: point, halfWay: halfWay)
            // The kernel's state is the journal's progress record: an operation it shows caught half-way
            // must have been found and resolved, not run again from the top nor left alone.
            #expect(!halfWay || !resolved.isEmpty, "crash point \(point): the kernel was left half-way, but no operation was resolved as interrupted")
            resolutions.formUnion(resolved)
            await survivor.terminate()
            point += 1
        }
        // Bind: 5 writes (set_override, unbind, probe; set_override, probe); release: 5 (clear_override,
        // unbind; clear_override, unbind, probe); each operation one more point before its first write.
        #expect(crashesSeen == 12, "the bind and release of two endpoints have twelve crash points, \(crashesSeen) seen")
        #expect(resolutions == ["operation.completed_on_recovery", "operation.rolled_back"],
                "some crashes were rolled back, others completed: \(resolutions)")
    }

    /// A device whose driver changed after the snapshot the assignment was planned from (by hand: no uevent,
    /// no rescan): the bind commits its amended plan before its first write, so when vfiod is killed after
    /// that write, recovery gives the device back the driver it really had (none), not the snapshot's.
    @Test func killingVfiodAfterAnAmendedPlanRestoresTheDriverTheDeviceReallyHad() async throws {
        let tree = try FakeSysfs.make(leaseHost())
        defer { tree.remove() }
        let nic = "0000:06:00.0"
        let arguments = ["--db", tree.path + "/vfiod.db", "--simulate-in-place", tree.path, "--no-auth", "--allow", "all",
                         "--refresh-interval", "3600"]
        // Crash point 2: after the bind's first write (vfio-pci into the nic's driver_override).
        let doomed = try VFIODProcess(arguments: arguments, environment: ["VFIOD_TEST_CRASH_AT": "2"])
        #expect(try await doomed.waitUntilListening(), "\(doomed.output)")
        let (_, before, _) = try await doomed.send("GET", "/v1/devices/\(nic)")
        #expect(before["driver"] as? String == "e1000", "the snapshot has the nic on e1000: \(before)")
        try SimulatedKernel(source: tree.path, inPlace: true).unbind(PCIAddress(nic)!, from: "e1000")
        #expect(await Self.lifecycle(doomed) == false)
        let exit = try await doomed.waitForExit()
        #expect(exit.signaled && exit.status == SIGKILL, "\(exit): \(doomed.output)")

        let survivor = try VFIODProcess(arguments: arguments)
        #expect(try await survivor.waitUntilListening(), "\(survivor.output)")
        let kernel = try SimulatedKernel(source: tree.path, inPlace: true)
        #expect(TreeState(kernel, nic).driver == nil && TreeState(kernel, nic).driverOverride == nil,
                "rolled back to no driver, as the kernel had it before the bind: \(TreeState(kernel, nic))")
        let (_, audit, _) = try await survivor.send("GET", "/v1/audit?pageSize=1000&action=operation.step")
        let plans = (audit["items"] as? [[String: Any]] ?? []).filter { ($0["detail"] as? String ?? "").contains(" plan: ") }
        #expect(plans.count == 1 && (plans.first?["after"] as? [String: String])?["driver"] == "none", "\(plans)")
        let (_, list, _) = try await survivor.send("GET", "/v1/assignments")
        #expect((list["items"] as? [[String: Any]] ?? []).map { $0["state"] as? String } == ["failed"], "\(list)")
        await survivor.terminate()
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

    /// Whether the lease host's endpoints are in neither state a finished operation leaves: all on their
    /// original drivers with an empty driver_override, or all on vfio-pci with it named in driver_override.
    static func isHalfWay(tree: String) throws -> Bool {
        let kernel = try SimulatedKernel(source: tree, inPlace: true)
        let states = originals.map { address, original in (TreeState(kernel, address), original) }
        let given = states.allSatisfy { $0.0.driver == $0.1 && $0.0.driverOverride == nil }
        let bound = states.allSatisfy { $0.0.driver == "vfio-pci" && $0.0.driverOverride == "vfio-pci" }
        return !given && !bound
    }

    /// Returns the recovery resolutions the audit shows. `halfWay`: the crash left the kernel half-way.
    static func checkInvariants(_ vfiod: VFIODProcess, tree: String, point: Int, halfWay: Bool) async throws -> Set<String> {
        var (_, list, _) = try await vfiod.send("GET", "/v1/assignments")
        // A release killed before its first kernel write starts its cooperative release again, in the
        // background (its holder is told again); one that had begun is resolved before vfiod serves.
        for releasing in (list["items"] as? [[String: Any]] ?? []) where releasing["state"] as? String == "releasing" && !halfWay {
            let (_, operations, _) = try await vfiod.send("GET", "/v1/assignments/\(releasing["id"] as? String ?? "?")/operations")
            let release = (operations["items"] as? [[String: Any]] ?? []).last { $0["kind"] as? String == "release" }
            let done = try await vfiod.send("GET", "/v1/operations/\(release?["id"] as? String ?? "?")?wait=30")
            #expect(done.body["state"] as? String == "succeeded", "crash point \(point): the release run again: \(done.body)")
            (_, list, _) = try await vfiod.send("GET", "/v1/assignments")
        }
        let kernel = try SimulatedKernel(source: tree, inPlace: true)
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
