import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator
#if canImport(Glibc)
import Glibc
#endif

/// The holder socket on a simulated host: a real server on 127.0.0.1:0 and a real Unix socket. What is
/// given (checked with `fstat` against the simulated host's files), each refusal's code, and the audit.
@Suite(.serialized) struct HolderSocketTests {
    static let edu = "0000:05:00.0"

    @Test func anActiveLeaseGetsTheIOMMUFDAndTheDeviceCdevOfTheSimulatedHost() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu], ["holder": ["id": "vm-h", "tenant": "t1", "uid": 4242]])
            #expect((try await service.json("/v1/assignments/\(id)")["holder"] as? [String: Any])?["uid"] as? Int == 4242)
            let answer = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            defer { answer.close() }
            #expect(answer.ok, "\(answer.line ?? "no answer")")
            #expect(answer.kinds == ["iommufd", "device"])
            let device = (answer.json["fds"] as? [[String: Any]])?.last
            #expect(device?["address"] as? String == Self.edu)
            let root = try #require(service.simulator).paths.root
            let cdev = try #require(try await service.json("/v1/devices/\(Self.edu)")["vfioCdev"] as? String)
            try #require(answer.descriptors.count == 2)
            #expect(fileIdentity(fd: answer.descriptors[0]) == fileIdentity(path: root + "/dev/iommu"))
            #expect(fileIdentity(fd: answer.descriptors[1]) == fileIdentity(path: root + "/dev/vfio/devices/\(cdev)"))
            #expect(answer.descriptors.allSatisfy(isCloseOnExec))
            // Given, audited with the peer: this process (root).
            let given = try #require(try await service.items("/v1/audit?action=holder.descriptors_given").last)
            #expect(given["assignment"] as? String == id)
            let peer = given["after"] as? [String: String] ?? [:]
            #expect(peer["peerUid"] == "0" && peer["peerPid"] == String(getpid()), "\(given)")
            #expect(peer["peerCommand"].map { !$0.isEmpty && $0 != "?" } == true, "\(given)")
            // vfiod closed its own copies: nothing of this process but the test's descriptors holds the cdev.
            #expect(try openDescriptors(to: root + "/dev/vfio/devices/\(cdev)") == 1)
        }
    }

    @Test func withoutCdevAndIOMMUFDTheGroupAndAContainerAreGiven() async throws {
        var host = leaseHost()
        host.cdev = false
        host.iommufd = false
        try await withService(try await TestService(simulatedHost: host, allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let answer = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            defer { answer.close() }
            #expect(answer.ok && answer.kinds == ["group", "container"], "\(answer.line ?? "no answer")")
            let root = try #require(service.simulator).paths.root
            try #require(answer.descriptors.count == 2)
            #expect(fileIdentity(fd: answer.descriptors[0]) == fileIdentity(path: root + "/dev/vfio/10"))
            #expect(fileIdentity(fd: answer.descriptors[1]) == fileIdentity(path: root + "/dev/vfio/vfio"))
        }
    }

    @Test func eachRefusalHasItsCodeAndIsAuditedWithoutDescriptors() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let generation = try await service.generation(of: id)
            let cases: [(String, [UInt8])] = [
                ("bad_request", Array("not json\n".utf8)),
                ("bad_request", Array(#"{"assignment": "\#(id)"}"#.utf8) + [0x0a]),
                ("bad_request", Array(#"{"assignment": "\#(id)", "generation": 1, "extra": true}"#.utf8) + [0x0a]),
                ("assignment_not_found", Array(#"{"assignment": "asg_nope", "generation": 1}"#.utf8) + [0x0a]),
                ("stale_generation", Array(#"{"assignment": "\#(id)", "generation": \#(generation + 1)}"#.utf8) + [0x0a]),
                ("request_too_large", [UInt8](repeating: UInt8(ascii: "x"), count: 4096)),
            ]
            for (code, bytes) in cases {
                let answer = try await service.holderExchange(bytes)
                #expect(answer.code == code && answer.json["ok"] as? Bool == false && answer.descriptors.isEmpty,
                        "\(code): \(answer.line ?? "no answer")")
                answer.close()
            }
            // Released: not active any more.
            _ = try await service.release(id)
            let released = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            #expect(released.code == "assignment_not_active" && released.descriptors.isEmpty)
            let refused = try await service.items("/v1/audit?action=holder.descriptors_refused").compactMap { $0["error"] as? String }
            #expect(refused == cases.map(\.0) + ["assignment_not_active"])
        }
    }

    /// A file vfiod cannot open (the container node gone) refuses the fetch and leaks nothing opened before it.
    @Test func aFileThatCannotBeOpenedIsRefusedAsOpenFailed() async throws {
        var host = leaseHost()
        host.cdev = false
        host.iommufd = false
        try await withService(try await TestService(simulatedHost: host, allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let root = try #require(service.simulator).paths.root
            #expect(unlink(root + "/dev/vfio/vfio") == 0)
            let answer = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            #expect(answer.code == "open_failed" && answer.descriptors.isEmpty, "\(answer.line ?? "no answer")")
            #expect((answer.json["detail"] as? String)?.contains("/dev/vfio/vfio") == true)
            #expect(try openDescriptors(to: root + "/dev/vfio/10") == 0)
        }
    }

    @Test func aSilentClientIsRefusedAfterTheDeadline() async throws {
        let host = leaseHost()
        try await withService(try await TestService(simulatedHost: host, allow: leaseAllowlist) { $0.holderSilenceSeconds = 0.2 }) { service in
            let answer = try await service.holderExchange(Array(#"{"assignment": "#.utf8))
            #expect(answer.code == "request_timeout", "\(answer.line ?? "no answer")")
        }
    }

    /// Hostile clients — a thousand silent connections, a 1 MB line, bad JSON — while the API and an
    /// honest holder are served.
    @Test func hostileClientsBlockNeitherAnotherClientNorTheAPI() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let path = service.service.holderSocketPath
            let silent = try await runOnDedicatedThread { try (0..<1000).map { _ in try HolderSocketClient(path: path) } }
            let partial = try await runOnDedicatedThread {
                let client = try HolderSocketClient(path: path)
                client.send(Array(#"{"assignment": "#.utf8))
                return client
            }
            let huge = try await service.holderExchange([UInt8](repeating: UInt8(ascii: "{"), count: 1 << 20))
            #expect(huge.descriptors.isEmpty)
            if huge.line != nil { #expect(huge.code == "request_too_large") }
            #expect(try await service.holderExchange(Array("{]\n".utf8)).code == "bad_request")
            #expect(try await service.get("/v1/host").status == 200)
            let honest = try await service.fetchDescriptors(id, generation: try await service.generation(of: id))
            #expect(honest.ok && honest.descriptors.count == 2, "\(honest.line ?? "no answer")")
            honest.close()
            withExtendedLifetime((silent, partial)) {}
        }
    }

    /// How many descriptors of this process refer to `path`.
    func openDescriptors(to path: String) throws -> Int {
        let target = fileIdentity(path: path)
        return try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { name in
            guard let fd = Int32(name) else { return false }
            return fileIdentity(fd: fd) == target
        }.count
    }
}
