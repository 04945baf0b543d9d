import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Watching a release live from the built binary: the openers it finds, the device requests relayed, the
/// escalation; and Ctrl-C, which stops the watching and not the operation.
@Suite(.serialized) struct ClientWatchTests {
    static let edu = "0000:05:00.0"

    @Test func aReleaseWithAnOpenerShowsItTheRequestsAndTheEscalation() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            try kernel.setRequestInterval(.milliseconds(100))
            let cli = ClientRunner(port: service.port)
            let leased = try await cli.run(["lease", Self.edu, "--holder", "vm-1", "--tenant", "t1", "--ttl", "1h",
                                            "--release-timeout", "0", "--escalation", "terminate", "--wait", "-o", "json"])
            #expect(leased.status == 0, "\(leased)")
            let id = try #require(jsonObject(leased.out)["id"] as? String)
            #expect(jsonObject(leased.out)["escalation"] as? String == "terminate", "\(leased.out)")
            let root = kernel.paths.root
            let opener = try await runOnDedicatedThread {
                try SimulatedOpener(root: root, group: 10, device: Self.edu, onRequest: "ignore")
            }
            let release = try await cli.run(["release", id, "--wait"])
            #expect(release.status == 0, "\(release)")
            #expect(release.out.contains("opener pid \(opener.pid) ("), "\(release.out)")
            #expect(release.out.contains("holds /dev/vfio/10"), "\(release.out)")
            #expect(release.out.contains("device request relayed: ") || release.out.contains("device requests relayed so far"), "\(release.out)")
            #expect(release.out.contains("escalation: policy terminate with SIGTERM to pids \(opener.pid)"), "\(release.out)")
            #expect(release.out.contains("opener pid \(opener.pid) let go"), "\(release.out)")
            #expect(release.out.contains("succeeded after"), "\(release.out)")
            _ = try await runOnDedicatedThread { opener.waitForExit() }
        }
    }

    @Test func ctrlCStopsWatchingAndTheOperationGoesOn() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            let id = try await service.lease(["device": Self.edu])
            try kernel.injectFault(.unbindBlocks(PCIAddress(Self.edu)!))
            let environment = ChildProcess.environment(adding: ["VFIOD_SERVER": "http://127.0.0.1:\(service.port)"], removing: ["VFIOD_TOKEN"])
            let watcher = try ChildProcess(executable: ProcessTests.binary, arguments: ["release", id, "--wait"], environment: environment)
            let watching = try await runOnDedicatedThread {
                watcher.waitForText(in: .standardOutput) { $0.contains("release of group 10") ? true : nil } ?? false
            }
            #expect(watching, "\(watcher.text(of: .standardOutput)) \(watcher.text(of: .standardError))")
            try await runOnDedicatedThread { kernel.waitForBlockedUnbind(of: PCIAddress(Self.edu)!) }
            kill(watcher.processIdentifier, SIGINT)
            let exit = try await runOnDedicatedThread { () -> ChildProcess.Exit in
                let exit = watcher.waitForExit()
                watcher.waitForEnd(of: .standardError)
                return exit
            }
            #expect(exit.status == 130 && !exit.signaled, "\(exit) \(watcher.text(of: .standardError))")
            let error = watcher.text(of: .standardError)
            #expect(error.contains("stopped watching; operation op_") && error.contains("goes on"), "\(error)")
            let assignment = try await service.json("/v1/assignments/\(id)")
            #expect(assignment["state"] as? String == "releasing", "the release was not cancelled: \(assignment)")
            try kernel.releaseBlockedUnbinds()
            try kernel.clearFaults()
            let operation = try #require(error.split(separator: " ").first { $0.hasPrefix("op_") }.map { String($0.prefix(27)) })
            let done = try await service.finish(operation: "/v1/operations/\(operation)")
            #expect(done["state"] as? String == "succeeded", "\(done)")
            #expect(try await service.deviceState(Self.edu) == "available")
        }
    }

    /// With every event stream taken (events.maxStreams 1, held by another reader) `vfiod events` is refused
    /// (503 too_many_streams, exit 3), and `--wait` follows the bind by long-polling instead, to the end.
    @Test func withEveryStreamTakenWaitFallsBackToLongPolling() async throws {
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist) { $0.maxStreams = 1 }
        try await withService(service) { service in
            let port = service.port
            let holder = StreamHolder(HTTPTestClient(port: port))
            defer { holder.client.close() }
            let head = try await runOnDedicatedThread { try holder.client.openStream(path: "/v1/events") }
            #expect(head.status == 200)
            let cli = ClientRunner(port: port)
            let refused = try await cli.run(["events"])
            #expect(refused.status == 3 && refused.err.contains("too_many_streams"), "\(refused)")
            // The bind waits in the NIC's unbind (e1000 → none) until the watcher is watching, so the watch
            // cannot find it finished at its first look.
            let kernel = try #require(service.simulator)
            let nic = PCIAddress("0000:06:00.0")!
            try kernel.injectFault(.unbindBlocks(nic))
            let environment = ChildProcess.environment(adding: ["VFIOD_SERVER": "http://127.0.0.1:\(port)"], removing: ["VFIOD_TOKEN"])
            let watcher = try ChildProcess(executable: ProcessTests.binary, arguments: [
                "lease", "--group", "11", "--holder", "vm-1", "--tenant", "t1", "--ttl", "1h", "--wait"], environment: environment)
            let watching = try await runOnDedicatedThread {
                watcher.waitForText(in: .standardOutput) { $0.contains("bind of group 11") ? true : nil } ?? false
            }
            #expect(watching, "\(watcher.text(of: .standardError))")
            try await runOnDedicatedThread { kernel.waitForBlockedUnbind(of: nic) }
            try kernel.clearFaults()
            try kernel.releaseBlockedUnbinds()
            let exit = try await runOnDedicatedThread { () -> ChildProcess.Exit in
                let exit = watcher.waitForExit()
                watcher.waitForEnd(of: .standardOutput)
                return exit
            }
            let out = watcher.text(of: .standardOutput)
            #expect(exit.status == 0, "\(out) \(watcher.text(of: .standardError))")
            #expect(out.contains("step 1 set_override") && out.contains(": active, expires"), "\(out)")
        }
    }
}

/// One open stream held by a blocking client, handed to the dedicated thread that opens it.
private final class StreamHolder: @unchecked Sendable {
    // @unchecked: used by one thread at a time (opened on a dedicated thread, closed after it returned).
    let client: HTTPTestClient
    init(_ client: HTTPTestClient) { self.client = client }
}
