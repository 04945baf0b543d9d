import Foundation
import Testing
import Store
import TestSupport

/// The client's exit codes and messages (2 usage, 3 refused with the problem on stderr, 4 unreachable),
/// its tokens (VFIOD_TOKEN or --token-file, never a flag), its help and its completion script.
@Suite struct ClientExitCodeTests {
    @Test(arguments: [
        (["lease", "0000:05:00.0", "--ttl", "1h"], "--holder"),
        (["lease", "--holder", "vm", "--ttl", "1h"], "DEVICE or --group"),
        (["lease", "0000:05:00.0", "--holder", "vm", "--ttl", "soon"], "--ttl"),
        (["renew", "asg_x"], "--ttl"),
        (["devices", "--bogus"], "unknown option --bogus"),
        (["devices", "a", "b"], "unexpected argument"),
        (["status", "-o", "yaml"], "-o"),
        (["status", "--token", "vfiod_secret"], "VFIOD_TOKEN"),
        (["status", "--server", "ftp://x"], "--server"),
        (["quarantine", "lift", "0000:05:00.0"], "quarantine clear"),
        (["audit", "--verify", "--device", "0000:05:00.0"], "--verify"),
        (["completion", "zsh"], "bash"),
        (["events", "--count", "0"], "--count"),
        (["help", "frobnicate"], "no command"),
        (["status", "--token-file", "/nonexistent/token"], "cannot read"),
    ] as [([String], String)])
    func aUsageErrorExitsTwoWithOneLine(_ arguments: [String], _ expected: String) async throws {
        // No server is needed: usage is checked before anything is sent (port 1 would refuse anyway).
        let result = try await ClientRunner(server: "http://127.0.0.1:1").run(arguments)
        #expect(result.status == 2, "\(arguments): \(result)")
        #expect(result.err.contains(expected), "\(arguments): \(result.err)")
        #expect(result.out.isEmpty)
    }

    @Test func aRefusalExitsThreeWithTheProblemsCodeTitleAndDetail() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let missing = try await cli.run(["devices", "0000:99:00.0"])
            #expect(missing.status == 3, "\(missing)")
            #expect(missing.err == "vfiod: refused (404): device_not_found: Device not found\nthis host has no PCI device 0000:99:00.0\n", "\(missing.err)")
            let protected = try await cli.run(["lease", "0000:00:02.0", "--holder", "vm", "--tenant", "t1", "--ttl", "1h", "-o", "json"])
            #expect(protected.status == 3, "\(protected)")
            #expect(protected.err.contains("group_not_assignable"), "\(protected.err)")
            #expect(protected.out.isEmpty, "a refusal prints nothing on standard output, also with -o json")
        }
    }

    @Test func anUnreachableServerExitsFour() async throws {
        for arguments in [["status"], ["devices", "-o", "json"], ["events"], ["operation", "op_0", "--follow"]] {
            let result = try await ClientRunner(server: "http://127.0.0.1:1").run(arguments)
            #expect(result.status == 4, "\(arguments): \(result)")
            #expect(result.err.hasPrefix("vfiod: cannot reach the server: http://127.0.0.1:1/v1/"), "\(result.err)")
        }
    }

    @Test func theTokenComesFromTheEnvironmentOrAFileNeverAFlag() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let store = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let token = try store.create(name: "ops", role: .viewer).token
            let anonymous = try await ClientRunner(port: service.port).run(["status"])
            #expect(anonymous.status == 3 && anonymous.err.contains("refused (401): unauthenticated"), "\(anonymous)")
            let fromEnvironment = try await ClientRunner(port: service.port, environment: ["VFIOD_TOKEN": token]).run(["status", "-o", "json"])
            #expect(fromEnvironment.status == 0, "\(fromEnvironment)")
            #expect(fromEnvironment.outBody == (try await apiBody(service, "/v1/host", token: token)))
            let file = service.directory.path + "/token"
            try (token + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let fromFile = try await ClientRunner(port: service.port).run(["devices", "--token-file", file])
            #expect(fromFile.status == 0 && fromFile.out.hasPrefix("ADDRESS"), "\(fromFile)")
            let forbidden = try await ClientRunner(port: service.port, environment: ["VFIOD_TOKEN": token])
                .run(["lease", "0000:05:00.0", "--holder", "vm", "--tenant", "t1", "--ttl", "1h"])
            #expect(forbidden.status == 3 && forbidden.err.contains("refused (403): forbidden"), "\(forbidden)")
        }
    }

    @Test func helpForEveryCommandAndABashCompletionScript() async throws {
        let cli = ClientRunner(server: "http://127.0.0.1:1")
        let commands = ["status", "devices", "groups", "lease", "assignments", "renew", "release", "operation", "reset",
                        "quarantine", "audit", "events", "completion"]
        let usage = try await cli.ok(["--help"])
        for command in commands {
            #expect(usage.contains("  vfiod \(command)"), "vfiod --help lists \(command)")
            let help = try await cli.ok(["help", command])
            #expect(help.hasPrefix("usage: vfiod \(command)"), "\(help)")
            #expect(help.contains("Exit status: 0 ok; 1"), "\(help)")
            #expect(try await cli.ok([command, "--help"]) == help)
        }
        #expect(try await cli.ok(["help", "serve"]).contains("vfiod serve [--listen"))
        let script = try await cli.ok(["completion", "bash"])
        #expect(script.contains("complete -F _vfiod vfiod"))
        for command in commands { #expect(script.contains(" \(command)"), "completes \(command)") }
        #expect(script.contains("lease) opts=\"--group --holder --tenant --ttl --reset-on-release --wait"), "\(script)")
        // bash itself parses it, then completes `vfiod lea` to `lease` and `vfiod lease --ho` to `--holder`.
        let file = try TemporaryDirectory(prefix: "vfiod-completion")
        defer { file.remove() }
        try script.write(toFile: file.path + "/vfiod.bash", atomically: true, encoding: .utf8)
        let probe = """
            source \(file.path)/vfiod.bash
            COMP_WORDS=(vfiod lea); COMP_CWORD=1; _vfiod; echo "${COMPREPLY[@]}"
            COMP_WORDS=(vfiod lease --ho); COMP_CWORD=2; _vfiod; echo "${COMPREPLY[@]}"
            """
        let completed = try await cli.run(["-c", probe], launcher: ["/bin/bash"])
        #expect(completed.status == 0, "\(completed)")
        #expect(completed.out == "lease\n--holder\n", "\(completed.out)")
    }
}
