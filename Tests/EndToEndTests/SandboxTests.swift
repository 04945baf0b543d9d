import Foundation
import Testing
import TestSupport

/// The systemd unit's sandbox (`deploy/vfiod.service`): its exposure score, and vfiod leasing under the part
/// of it a process can apply to itself without systemd as PID 1 (`scripts/run-sandboxed`: the capability
/// bounding set, no new privileges, the system call filter with its address families, namespaces and
/// personality, and write-xor-execute memory). Mounts and the device cgroup need systemd; docs/SECURITY.md
/// says what that leaves unproven.
@Suite(.serialized) struct SandboxTests {
    static let unit = Fixtures.repositoryRoot() + "/deploy/vfiod.service"
    static let runner = Fixtures.repositoryRoot() + "/scripts/run-sandboxed"

    /// Runs `command` to completion: its status and its standard output and error together.
    static func run(_ command: [String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run(command[0], Array(command.dropFirst()), mergingStandardError: true)
        return (result.exit.status, result.out)
    }

    /// The capability names of the unit's `CapabilityBoundingSet=` lines, lower case.
    static func unitCapabilities() throws -> Set<String> {
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        var names = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("CapabilityBoundingSet=") {
            for name in line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ") { names.insert(name.lowercased()) }
        }
        return names
    }

    @Test func theUnitIsExposedAtMostFourPointFive() throws {
        let result = try Self.run(["/usr/bin/systemd-analyze", "security", "--offline=true", "--no-pager", Self.unit])
        #expect(result.status == 0, "\(result.output)")
        let line = result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
        let score = line.flatMap { $0.split(separator: ":").last?.split(separator: " ").first }.flatMap { Double($0) }
        #expect(score != nil, "no exposure level in: \(result.output)")
        #expect((score ?? 10) <= 4.5, "\(line ?? "")")
    }

    @Test func theSandboxRefusesWhatTheUnitForbids() throws {
        let prefix = [Self.runner, Self.unit, "--", "/usr/bin/python3", "-c"]
        let packet = try Self.run(prefix + ["import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)"])
        #expect(packet.status != 0 && packet.output.contains("Operation not permitted"), "\(packet.output)")
        let writableCode = try Self.run(prefix + ["import mmap; mmap.mmap(-1, 4096, prot=7)"])
        #expect(writableCode.status != 0 && writableCode.output.contains("Permission denied"), "\(writableCode.output)")
        // unshare(CLONE_NEWNET) and mount(2), through libc: each must fail with EPERM.
        let libc = "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        let namespace = try Self.run(prefix + [libc + "assert libc.unshare(0x40000000) != 0; print(os.strerror(ctypes.get_errno()))"])
        #expect(namespace.status == 0 && namespace.output.contains("Operation not permitted"), "\(namespace.output)")
        let mount = try Self.run(prefix + [libc + "assert libc.mount(b'none', b'/mnt', b'tmpfs', 0, None) != 0; print(os.strerror(ctypes.get_errno()))"])
        #expect(mount.status == 0 && mount.output.contains("Operation not permitted"), "\(mount.output)")
    }

    @Test func vfiodLeasesAndReleasesUnderTheSandbox() async throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-sandbox")
        defer { directory.remove() }
        let vfiod = try VFIODProcess(
            arguments: ["--no-auth", "--allow", "all", "--db", directory.path + "/v.db",
                        "--simulate", Fixtures.topologyDirectory + "/gpu-server.json"],
            launcher: [Self.runner, Self.unit, "--"])
        defer { Task { await vfiod.terminate() } }
        let listening = try await vfiod.waitUntilListening()
        try #require(listening, "vfiod did not start under the sandbox: \(vfiod.output)")

        // The process serving is confined as the unit says.
        let status = try String(contentsOfFile: "/proc/\(vfiod.process.processIdentifier)/status", encoding: .utf8)
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["NoNewPrivs"] == "1")
        #expect(fields["Seccomp"] == "2")
        let decoded = try Self.run(["/usr/sbin/capsh", "--decode=0x" + (fields["CapBnd"] ?? "")]).output
        let held = Set(decoded.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: ",").map(String.init) ?? [])
        #expect(held == (try Self.unitCapabilities()), "\(decoded)")

        // …and lends a GPU's group and gives it back.
        let created = try await vfiod.send("POST", "/v1/assignments", json: [
            "device": "0000:41:00.0", "holder": ["id": "vm-1", "tenant": "team-a"], "ttlSeconds": 600])
        #expect(created.status == 202, "\(created.body)")
        let bind = try await Self.finish(vfiod, created.headers.header("Operation-Location"))
        #expect(bind == "succeeded")
        let id = try #require(created.body["id"] as? String)
        #expect(try await vfiod.send("GET", "/v1/assignments/\(id)").body["state"] as? String == "active")
        let released = try await vfiod.send("DELETE", "/v1/assignments/\(id)")
        #expect(released.status == 202, "\(released.body)")
        #expect(try await Self.finish(vfiod, released.headers.header("Operation-Location")) == "succeeded")
        #expect(try await vfiod.send("GET", "/v1/assignments/\(id)").body["state"] as? String == "released")

        // SIGTERM still ends it cleanly.
        vfiod.process.terminate()
        let exit = try await vfiod.waitForExit()
        #expect(!exit.signaled && exit.status == 0)
    }

    @Test func vfiodServesTLSUnderTheSandbox() async throws {
        // GnuTLS under the system call filter and write-xor-execute memory: a handshake and a request.
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.server("server", serial: 9)
        let vfiod = try VFIODProcess(
            arguments: ["--no-auth", "--db", certificates.directory.path + "/v.db", "--tls-cert", pair.certificate,
                        "--tls-key", pair.key, "--simulate", Fixtures.topologyDirectory + "/workstation.json"],
            launcher: [Self.runner, Self.unit, "--"])
        defer { Task { await vfiod.terminate() } }
        try #require(try await vfiod.waitUntilListening(), "vfiod did not start under the sandbox: \(vfiod.output)")
        let host = try certificates.curl(port: vfiod.port, "/v1/host")
        #expect(host.exit == 0 && host.status == 200, "\(host)")
        #expect(try certificates.servedSerial(port: vfiod.port) == "09")
    }

    /// Follows an operation to its end and returns its state.
    static func finish(_ vfiod: VFIODProcess, _ location: String?) async throws -> String? {
        let path = try #require(location)
        for _ in 0..<10 {
            let state = try await vfiod.send("GET", path + "?wait=30").body["state"] as? String
            if state != "queued" && state != "running" { return state }
        }
        return nil
    }
}
