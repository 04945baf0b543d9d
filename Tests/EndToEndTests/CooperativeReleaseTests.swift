import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Releasing devices a process still holds, on the simulated kernel with real opener processes
/// (`vfio-opener --simulated`): the kernel's device request, escalation by policy, and an API that keeps
/// answering while an unbind is blocked.
@Suite(.serialized) struct CooperativeReleaseTests {
    static let edu = "0000:05:00.0"

    /// Leases the single-device group 10 of ``leaseHost()`` with `policy`, and starts an opener on it.
    func leaseAndHold(_ service: TestService, onRequest: String, policy: [String: Any]) async throws -> (String, SimulatedOpener) {
        let kernel = try #require(service.simulator)
        try kernel.setRequestInterval(.milliseconds(100))
        let id = try await service.lease(["device": Self.edu], policy)
        let root = kernel.paths.root
        let opener = try await runOnDedicatedThread {
            try SimulatedOpener(root: root, group: 10, device: Self.edu, onRequest: onRequest)
        }
        return (id, opener)
    }

    @Test func anOpenerThatClosesOnRequestLetsTheReleaseFinish() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, opener) = try await leaseAndHold(service, onRequest: "close", policy: ["releaseTimeoutSeconds": 600])
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let openers = release["openers"] as? [[String: Any]] ?? []
            #expect(openers.contains { ($0["pid"] as? Int).map(Int32.init) == opener.pid }, "\(release)")
            #expect(openers.allSatisfy { !($0["goneAt"] is NSNull) })
            let relayed = release["requestsRelayed"] as? [[String: Any]] ?? []
            #expect(relayed.contains { ($0["text"] as? String ?? "").contains("Relaying device request to user") }, "\(release)")
            #expect(release["escalation"] is NSNull)
            let status = try await runOnDedicatedThread { opener.waitForExit() }
            #expect(status == 0)
            #expect(opener.lines.contains { $0.hasPrefix("request ") })
            #expect(try await service.deviceState(Self.edu) == "available")
        }
    }

    @Test(arguments: [("terminate", "SIGTERM"), ("kill", "SIGKILL")])
    func anOpenerThatIgnoresRequestsIsSignalledAfterTheTimeout(_ policy: String, _ signal: String) async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, opener) = try await leaseAndHold(service, onRequest: "ignore",
                                                      policy: ["releaseTimeoutSeconds": 0, "escalation": policy])
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let escalation = try #require(release["escalation"] as? [String: Any], "\(release)")
            #expect(escalation["policy"] as? String == policy)
            #expect(escalation["signal"] as? String == signal)
            #expect((escalation["pids"] as? [Int] ?? []).map(Int32.init).contains(opener.pid))
            _ = try await runOnDedicatedThread { opener.waitForExit() }
            #expect(opener.process.terminationReason == (policy == "kill" ? .uncaughtSignal : .exit))
            #expect(try await service.deviceState(Self.edu) == "available")
            let actions = try await service.items("/v1/audit?assignment=\(id)").compactMap { $0["action"] as? String }
            #expect(actions.contains("release.escalated"))
        }
    }

    /// An opener of the device cdev that ignores requests. The kernel removes the cdev node when the unbind
    /// starts and the opener's fd link reads `… (deleted)`: vfiod must keep following it and escalate
    /// (before, it saw the opener gone, signalled nobody and the release hung).
    @Test(arguments: [("terminate", "SIGTERM"), ("kill", "SIGKILL")])
    func aCdevOpenerThatIgnoresRequestsIsSignalledAfterTheTimeout(_ policy: String, _ signal: String) async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            try kernel.setRequestInterval(.milliseconds(100))
            let id = try await service.lease(["device": Self.edu], ["releaseTimeoutSeconds": 1, "escalation": policy])
            let cdev = try #require(try await service.json("/v1/devices/\(Self.edu)")["vfioCdev"] as? String)
            let root = kernel.paths.root
            let opener = try await runOnDedicatedThread {
                try SimulatedOpener(root: root, cdev: "/dev/vfio/devices/\(cdev)", device: Self.edu, onRequest: "ignore")
            }
            let release = try await service.release(id)
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let openers = release["openers"] as? [[String: Any]] ?? []
            let seen = try #require(openers.first { ($0["pid"] as? Int).map(Int32.init) == opener.pid }, "\(release)")
            #expect(seen["paths"] as? [String] == ["/dev/vfio/devices/\(cdev)"])
            let escalation = try #require(release["escalation"] as? [String: Any], "\(release)")
            #expect(escalation["signal"] as? String == signal)
            #expect((escalation["pids"] as? [Int] ?? []).map(Int32.init).contains(opener.pid), "\(release)")
            _ = try await runOnDedicatedThread { opener.waitForExit() }
            #expect(opener.process.terminationReason == (policy == "kill" ? .uncaughtSignal : .exit))
            #expect(opener.lines.contains { $0.hasPrefix("request ") }, "the opener got the kernel's request")
            #expect(try await service.deviceState(Self.edu) == "available")
        }
    }

    /// The kernel logs only every tenth request (#0, #10, …): the operation counts the requests it made.
    @Test func theRequestsTheKernelMadeAreCountedThoughItLogsOnlyEveryTenth() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, opener) = try await leaseAndHold(service, onRequest: "ignore",
                                                      policy: ["releaseTimeoutSeconds": 600, "escalation": "wait"])
            let (released, _) = try await service.send("DELETE", "/v1/assignments/\(id)")
            let location = try #require(released.header("Operation-Location"))
            // The kernel has made 25 requests once the opener got the 25th (every 100 ms here).
            #expect(try await runOnDedicatedThread { opener.waitForLine(startingWith: "request n=25 ") } != nil)
            var operation: [String: Any] = [:]
            for _ in 0..<100 {
                operation = try await service.json(location + "?wait=1")
                if operation["requestsRelayedCount"] as? Int ?? 0 >= 25 { break }
            }
            let count = try #require(operation["requestsRelayedCount"] as? Int, "\(operation)")
            let logged = try #require(operation["requestsRelayedLogged"] as? Int, "\(operation)")
            let numbers = (operation["requestsRelayed"] as? [[String: Any]] ?? []).compactMap {
                DeviceRequestCount.requestNumber(in: $0["text"] as? String ?? "")
            }
            #expect(count >= 25, "\(operation)")
            #expect(numbers.allSatisfy { $0 % 10 == 0 } && numbers.count < count, "the log shows every tenth: \(numbers)")
            #expect(logged == (numbers.max() ?? -1) + 1, "\(operation)")
            #expect(operation["requestsRelayedSource"] as? String == (count > logged ? "inferred" : "kernel-log"), "\(operation)")
            opener.send(SIGKILL)
            let done = try await service.finish(operation: location)
            #expect(done["state"] as? String == "succeeded", "\(done)")
            #expect(done["requestsRelayedCount"] as? Int ?? 0 >= count, "a finished release keeps its count: \(done)")
        }
    }

    @Test func underWaitAStuckReleaseIsReportedAndTheAPIKeepsAnsweringUntilTheOpenerDies() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let (id, opener) = try await leaseAndHold(service, onRequest: "ignore",
                                                      policy: ["releaseTimeoutSeconds": 0, "escalation": "wait"])
            let (released, _) = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(released.status == 202)
            let operation = try #require(released.header("Operation-Location"))
            var stuck: [String: Any] = [:]
            for _ in 0..<100 {
                stuck = try await service.json(operation + "?wait=1")
                if stuck["stuck"] as? Bool == true { break }
            }
            #expect(stuck["stuck"] as? Bool == true, "\(stuck)")
            #expect(stuck["state"] as? String == "running")
            let ready = try await service.get("/readyz")
            #expect(ready.status == 503)
            #expect(ready.bodyText.contains("releases stuck"), "\(ready.bodyText)")
            let metrics = try await service.get("/metrics")
            #expect(metrics.bodyText.contains("vfiod_releases_stuck 1"))
            // Another group is lent and read while this one's unbind is blocked.
            let other = try await service.lease(["device": "0000:07:01.1"])
            #expect(try await service.deviceState("0000:07:01.1") == "assigned")
            #expect(try await service.deviceState(Self.edu) == "releasing")

            opener.send(SIGKILL)
            let done = try await service.finish(operation: operation)
            #expect(done["state"] as? String == "succeeded", "\(done)")
            #expect(done["stuck"] as? Bool == false, "a finished release is not stuck any more: \(done)")
            #expect(try await service.deviceState(Self.edu) == "available")
            #expect(try await service.get("/readyz").status == 200)
            _ = other
        }
    }

    @Test func theCallbackIsCalledWhenTheReleaseStarts() async throws {
        let listener = try CallbackListener()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu], ["callbackUrl": "http://127.0.0.1:\(listener.port)/released"])
            async let received = runOnDedicatedThread { listener.acceptOne() }
            let release = try await service.release(id)
            let request = try await received
            #expect(request.hasPrefix("POST /released HTTP/1.1"), "\(request)")
            #expect(request.contains("\"assignment\":\"\(id)\""), "\(request)")
            #expect(release["callback"] as? String == "204", "\(release)")
        }
    }
}

/// A one-shot HTTP listener on 127.0.0.1: reads one request and answers `204`.
final class CallbackListener: Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // bind(2) and getsockname(2) read and write a sockaddr_in through a sockaddr pointer.
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw FixtureError("callback listener: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection, reads its request head and body (what arrives before a short pause is not
    /// needed: the client sends it in one go and waits), answers 204 and returns the request text.
    func acceptOne() -> String {
        let client = accept(fd, nil, nil)
        defer { close(client); close(fd) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received += buffer[..<n]
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n"),
               let lengthLine = text.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
               let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
               text.utf8.distance(from: end.upperBound, to: text.endIndex) >= length {
                break
            }
        }
        let answer = Array("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".utf8)
        _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return String(decoding: received, as: UTF8.self)
    }
}
