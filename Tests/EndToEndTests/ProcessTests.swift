import Foundation
import Testing
import TestSupport

/// The real `vfiod` binary as an operator runs it.
@Suite struct ProcessTests {
    static var binary: String {
        Fixtures.builtExecutable("vfiod")
    }

    /// Runs vfiod to completion and returns its status, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let output = try ChildProcess.run(binary, arguments)
        return (output.exit.status, output.out, output.err)
    }

    @Test func helpAndVersion() throws {
        let help = try Self.run(["--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("vfiod serve"))
        let version = try Self.run(["--version"])
        #expect(version.status == 0)
        #expect(version.out.hasPrefix("vfiod 0."))
    }

    @Test(arguments: [
        (["serve", "--allow", "nvidia"], "invalid allow spec"),
        (["serve", "--listen", "localhost"], "--listen"),
        (["serve", "--bogus"], "unexpected argument"),
        (["serve", "--simulate", "/nonexistent/topology.json", "--db", "/proc/vfiod-never.db"], "cannot open database"),
        (["serve", "--simulate", "/nonexistent/topology.json", "--db", "SCRATCH"], "simulated host"),
        (["serve", "--listen", "0.0.0.0:0", "--no-auth", "--db", "/proc/never.db"], "loopback"),
        (["serve", "--db", "/proc/vfiod/cannot.db"], "cannot open database"),
        (["frobnicate"], "unknown command"),
        (["migrate"], "--db"),
    ])
    func aStartFailurePrintsOneClearLineAndExitsNonZero(_ arguments: [String], _ expected: String) throws {
        // "SCRATCH" stands for a database path of this case's own, for failures that get past opening it.
        let directory = try TemporaryDirectory(prefix: "vfiod-start-failure")
        defer { directory.remove() }
        let result = try Self.run(arguments.map { $0 == "SCRATCH" ? directory.path + "/v.db" : $0 })
        #expect(result.status != 0)
        let lines = result.err.split(separator: "\n").filter { !$0.contains("warning:") }
        #expect(lines.count == 1, "\(result.err)")
        #expect(result.err.contains(expected), "\(result.err)")
    }

    @Test func aPortInUseIsAStartFailure() async throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-port")
        defer { directory.remove() }
        let service = try await TestService(simulate: Fixtures.topologyDirectory + "/workstation.json")
        let port = service.port
        let result = try Self.run(["serve", "--listen", "127.0.0.1:\(port)", "--db", directory.path + "/db",
                                   "--simulate", Fixtures.topologyDirectory + "/workstation.json"])
        await service.stop()
        #expect(result.status == 1)
        #expect(result.err.contains("cannot listen on 127.0.0.1:\(port)"), "\(result.err)")
    }

    @Test func tokenCreatePrintsTheTokenAloneOnce() throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-token")
        defer { directory.remove() }
        let created = try Self.run(["token", "create", "--db", directory.path + "/v.db", "--name", "orch", "--role", "operator", "--tenant", "t1"])
        #expect(created.status == 0, "\(created.err)")
        let lines = created.out.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("vfiod_") == true)
        let again = try Self.run(["token", "create", "--db", directory.path + "/v.db", "--name", "orch", "--role", "viewer"])
        #expect(again.status != 0, "names are unique")
        let noTenant = try Self.run(["token", "create", "--db", directory.path + "/v.db", "--name", "o2", "--role", "operator"])
        #expect(noTenant.status != 0, "an operator needs a tenant")
        let badRole = try Self.run(["token", "create", "--db", directory.path + "/v.db", "--name", "o3", "--role", "root"])
        #expect(badRole.status != 0)
    }

    @Test func migrateCreatesAndThenKeepsTheSchema() throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-migrate")
        defer { directory.remove() }
        let first = try Self.run(["migrate", "--db", directory.path + "/v.db"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("applied migrations 1, 2, 3"))
        let second = try Self.run(["migrate", "--db", directory.path + "/v.db"])
        #expect(second.status == 0)
        #expect(second.out.contains("up to date"))
    }

    @Test func sigtermWithClientsConnectedExitsCleanly() async throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-sigterm")
        defer { directory.remove() }
        let process = try ChildProcess(executable: Self.binary, arguments: [
            "serve", "--listen", "127.0.0.1:0", "--db", directory.path + "/v.db", "--allow", "all", "--no-auth",
            "--simulate", Fixtures.topologyDirectory + "/gpu-server.json"])
        // The service says where it listens on its first line.
        let port: UInt16 = try await runOnDedicatedThread {
            let line = process.waitForLine(in: .standardError) { _ in true } ?? ""
            guard let range = line.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let digits = line[range].split(separator: ":").last, let port = UInt16(digits) else {
                throw FixtureError("no listen line in \(line)")
            }
            return port
        }
        // Two idle keep-alive clients and one that has just been answered stay connected across the signal.
        let clients = (0..<3).map { _ in ClientBox(HTTPTestClient(port: port)) }
        for box in clients {
            let response = try await runOnDedicatedThread { try box.client.request(path: "/v1/devices?pageSize=5") }
            #expect(response.status == 200)
        }
        process.terminate()
        let exit = try await runOnDedicatedThread { process.waitForExit() }
        for box in clients { box.client.close() }
        #expect(exit.status == 0)
        #expect(!exit.signaled)
    }
}

/// Hands one blocking client to the dedicated threads that use it, one at a time.
private final class ClientBox: @unchecked Sendable {
    let client: HTTPTestClient
    init(_ client: HTTPTestClient) { self.client = client }
}
