import Foundation
import Testing
import TestSupport

/// The client's read commands on the built binary against a real server: a table for people, and with
/// `-o json` exactly the bytes the API answers.
@Suite struct ClientReadTests {
    @Test func everyReadCommandPrintsTheAPIsJSONByteForByte() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let (created, assignment) = try await service.send("POST", "/v1/assignments", json: [
                "device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 600])
            let location = try #require(created.header("Operation-Location"))
            _ = try await service.finish(operation: location)
            let id = try #require(assignment["id"] as? String)
            let bindID = String(try #require(location.split(separator: "/").last))
            let pairs: [([String], String)] = [
                (["status"], "/v1/host"),
                (["devices"], "/v1/devices"),
                (["devices", "--state", "available"], "/v1/devices?state=available"),
                (["devices", "--vendor", "8086"], "/v1/devices?vendorId=8086"),
                (["devices", "0000:05:00.0"], "/v1/devices/0000:05:00.0"),
                (["groups"], "/v1/groups"),
                (["groups", "11"], "/v1/groups/11"),
                (["assignments"], "/v1/assignments"),
                (["assignments", id], "/v1/assignments/\(id)"),
                (["operation", bindID], "/v1/operations/\(bindID)"),
                (["reset", "0000:05:00.0", "--preview"], "/v1/devices/0000:05:00.0/reset-scope"),
                (["audit"], "/v1/audit"),
                (["audit", "--device", "0000:05:00.0"], "/v1/audit?device=0000:05:00.0"),
                (["audit", "--verify"], "/v1/audit/verify"),
            ]
            for (arguments, path) in pairs {
                let result = try await cli.run(arguments + ["-o", "json"])
                #expect(result.status == 0, "\(arguments): \(result)")
                let expected = try await apiBody(service, path)
                #expect(result.outBody == expected, "vfiod \(arguments.joined(separator: " ")) -o json is not GET \(path): \(result.out)")
            }
            let export = try await cli.run(["audit", "--export", "csv"])
            #expect(export.status == 0)
            #expect(Array(export.out.utf8) == (try await apiBody(service, "/v1/audit/export?format=csv")))
        }
    }

    @Test func tablesAreAlignedAndUncolouredOffATerminal() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let devices = try await cli.ok(["devices"])
            let lines = devices.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("ADDRESS") == true, "\(devices)")
            #expect(lines.count == 10, "a header and nine devices: \(devices)")
            // Aligned: the STATE column starts at the same place on every line.
            let column = try #require(lines.first?.range(of: "STATE")).lowerBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                let state = String(line.dropFirst(column).prefix { $0 != " " })
                #expect(["available", "host", "protected"].contains(state), "\(line)")
            }
            #expect(!devices.contains("\u{1B}["), "no colour codes when standard output is not a terminal")
            let one = try await cli.ok(["devices", "0000:08:00.0"])
            #expect(one.contains("state") && one.contains("host"), "\(one)")
            let status = try await cli.ok(["status"])
            #expect(status.contains("kernel 6.12.0-lease") && status.contains("9 in"), "\(status)")
            let groups = try await cli.ok(["groups", "--assignable"])
            #expect(groups.hasPrefix("GROUP") && groups.contains("0000:06:00.0,0000:06:01.0"), "\(groups)")
            let group = try await cli.ok(["groups", "0"])
            #expect(group.contains("assignable") && group.contains("no"), "\(group)")
            let audit = try await cli.ok(["audit"])
            #expect(audit == "no audit rows\n", "\(audit)")
            let verified = try await cli.ok(["audit", "--verify"])
            #expect(verified.hasPrefix("audit chain ok: 0 rows"), "\(verified)")
        }
    }

    /// On a terminal (a pseudo-terminal made by script(1)) states are coloured; NO_COLOR turns that off.
    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let command = "\(ProcessTests.binary) devices --server http://127.0.0.1:\(service.port)"
            let coloured = try await ClientRunner(port: service.port).run(["-qec", command, "/dev/null"], launcher: ["/usr/bin/script"])
            #expect(coloured.status == 0, "\(coloured)")
            #expect(coloured.out.contains("\u{1B}[32mavailable\u{1B}[0m"), "\(coloured.out.debugDescription)")
            let plain = try await ClientRunner(port: service.port, environment: ["NO_COLOR": "1"])
                .run(["-qec", command, "/dev/null"], launcher: ["/usr/bin/script"])
            #expect(plain.status == 0)
            #expect(plain.out.contains("available") && !plain.out.contains("\u{1B}["), "\(plain.out.debugDescription)")
        }
    }
}
