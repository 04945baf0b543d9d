import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Holders that run unprivileged and got their descriptors from the holder socket (`vfio-opener
/// --broker --uid U --simulated`): the lease's uid is given them, another uid is refused, and the
/// cooperative release finds such a holder by the descriptors it holds, asks it, and escalates.
@Suite(.serialized) struct HolderReleaseTests {
    static let edu = "0000:05:00.0"
    static let holderUID = 4242

    /// Leases the edu for ``holderUID`` with `policy` on a host every uid can reach.
    func lease(_ service: TestService, policy: [String: Any] = [:]) async throws -> (id: String, generation: Int) {
        let kernel = try #require(service.simulator)
        try kernel.setRequestInterval(.milliseconds(100))
        openToEveryone(kernel.paths.root)
        var extra = policy
        extra["holder"] = ["id": "vm-u", "tenant": "t1", "uid": Self.holderUID]
        let id = try await service.lease(["device": Self.edu], extra)
        return (id, try await service.generation(of: id))
    }

    @Test func theLeasesUIDGetsItsDescriptorsAndAnotherUIDIsRefused() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, generation) = try await lease(service)
            let stranger = try brokerOpener(service, assignment: id, generation: generation, device: Self.edu, uid: Self.holderUID + 1,
                                        extra: ["--hold-seconds", "0"])
            let refusal = try await runOnDedicatedThread { stranger.waitForLine(in: .standardOutput) { $0.hasPrefix("refused ") } }
            let refused = try await runOnDedicatedThread { stranger.waitForExit() }
            #expect(refused.status == 9)
            #expect(refusal == "refused code=peer_not_holder", "\(stranger.text(of: .standardError))")

            let holder = try brokerOpener(service, assignment: id, generation: generation, device: Self.edu, uid: Self.holderUID,
                                          onRequest: "close")
            let ready = try await runOnDedicatedThread { holder.waitForLine(in: .standardOutput) { $0.hasPrefix("ready ") } }
            #expect(ready?.contains("path=cdev") == true, "\(holder.text(of: .standardOutput)) \(holder.text(of: .standardError))")
            let root = try #require(service.simulator).paths.root
            let cdev = try #require(try await service.json("/v1/devices/\(Self.edu)")["vfioCdev"] as? String)
            let device = fileIdentity(path: root + "/dev/vfio/devices/\(cdev)")
            #expect(holder.lines(of: .standardOutput).contains { $0.hasPrefix("fd kind=device ") && $0.contains("ino=\(device[1]) ") })
            // The same uid cannot open the cdev itself: the descriptors are all it has.
            let direct = try ChildProcess.run(Fixtures.builtExecutable("vfio-opener"), [
                "--simulated", "--host-root", root, "--cdev", "/dev/vfio/devices/\(cdev)", "--device", Self.edu, "--uid", String(Self.holderUID)])
            #expect(direct.exit.status == 6 && direct.err.contains("op=open-cdev errno=13"), "\(direct.err)")

            let audit = try await service.holderAudit()
            let uids = audit.map { ($0["action"] as? String ?? "", ($0["after"] as? [String: String])?["peerUid"] ?? "") }
            #expect(uids.contains { $0 == ("holder.descriptors_given", String(Self.holderUID)) }, "\(audit)")
            #expect(uids.contains { $0 == ("holder.descriptors_refused", String(Self.holderUID + 1)) }, "\(audit)")
            #expect(audit.allSatisfy { ($0["after"] as? [String: String])?["peerCommand"] == "vfio-opener" })
            _ = try await service.release(id)
            _ = try await runOnDedicatedThread { holder.waitForExit() }
        }
    }

    @Test func theReleaseFindsAHolderThatClosesOnRequest() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, generation) = try await lease(service, policy: ["releaseTimeoutSeconds": 600])
            let holder = try brokerOpener(service, assignment: id, generation: generation, device: Self.edu, uid: Self.holderUID)
            _ = try await runOnDedicatedThread { holder.waitForLine(in: .standardOutput) { $0.hasPrefix("ready ") } }
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let openers = release["openers"] as? [[String: Any]] ?? []
            #expect(openers.contains { ($0["pid"] as? Int).map(Int32.init) == holder.processIdentifier }, "\(release)")
            #expect(release["escalation"] is NSNull)
            let exit = try await runOnDedicatedThread { holder.waitForExit() }
            #expect(exit.status == 0)
            #expect(holder.lines(of: .standardOutput).contains { $0.hasPrefix("request ") })
            #expect(try await service.deviceState(Self.edu) == "available")
        }
    }

    @Test func aHolderThatIgnoresRequestsIsTerminatedAfterTheTimeout() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, generation) = try await lease(service, policy: ["releaseTimeoutSeconds": 0, "escalation": "terminate"])
            let holder = try brokerOpener(service, assignment: id, generation: generation, device: Self.edu, uid: Self.holderUID,
                                          onRequest: "ignore")
            _ = try await runOnDedicatedThread { holder.waitForLine(in: .standardOutput) { $0.hasPrefix("ready ") } }
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let escalation = try #require(release["escalation"] as? [String: Any], "\(release)")
            #expect((escalation["pids"] as? [Int] ?? []).map(Int32.init).contains(holder.processIdentifier))
            _ = try await runOnDedicatedThread { holder.waitForExit() }
            #expect(holder.lines(of: .standardOutput).contains { $0.hasPrefix("exit reason=signal sig=TERM") })
            #expect(try await service.deviceState(Self.edu) == "available")
        }
    }

    @Test func aReleasingLeaseIsRefused() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, generation) = try await lease(service, policy: ["releaseTimeoutSeconds": 600, "escalation": "wait"])
            let holder = try brokerOpener(service, assignment: id, generation: generation, device: Self.edu, uid: Self.holderUID,
                                          onRequest: "ignore")
            _ = try await runOnDedicatedThread { holder.waitForLine(in: .standardOutput) { $0.hasPrefix("ready ") } }
            let (released, _) = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(released.status == 202)
            _ = try await runOnDedicatedThread { holder.waitForLine(in: .standardOutput) { $0.hasPrefix("request ") } }
            let answer = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            #expect(answer.code == "assignment_releasing" && answer.descriptors.isEmpty, "\(answer.line ?? "no answer")")
            holder.terminate()
            _ = try await service.finish(operation: released.header("Operation-Location"))
        }
    }
}
