import Foundation
import Testing
import TestSupport

/// `vfiod events` on the built binary against a real server's event stream: list then watch without a gap,
/// one line per event, `-o json` with the data as sent, refusals, and `reset` after a restart.
@Suite struct ClientEventTests {
    @Test func eventsFromAListsCursorShowEveryChangeAfterIt() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let list = try await service.get("/v1/assignments")
            let cursor = try #require(list.header("X-Vfiod-Cursor"))
            let id = try await service.lease(["device": "0000:05:00.0"])
            let cli = ClientRunner(port: service.port)
            let lines = try await cli.run(["events", "--since", cursor, "--types", "assignment.changed", "--count", "2"])
            #expect(lines.status == 0, "\(lines)")
            let text = lines.out.split(separator: "\n").map(String.init)
            #expect(text.count == 2, "\(lines.out)")
            #expect(text.allSatisfy { $0.contains("  assignment.changed  id=\(id)") }, "\(lines.out)")
            #expect(text.first?.contains("state=binding") == true && text.last?.contains("state=active") == true, "\(lines.out)")

            let json = try await cli.run(["events", "--since", cursor, "--types", "assignment.changed", "--count", "2", "-o", "json"])
            #expect(json.status == 0, "\(json)")
            let objects = json.out.split(separator: "\n").map { jsonObject(String($0)) }
            #expect(objects.map { $0["event"] as? String } == ["assignment.changed", "assignment.changed"], "\(json.out)")
            #expect(objects.allSatisfy { ($0["data"] as? [String: Any])?["id"] as? String == id }, "\(json.out)")
            #expect(objects.allSatisfy { ($0["id"] as? String)?.isEmpty == false })
            // Resuming from the first event's cursor gives the second, and nothing twice.
            let first = try #require(objects.first?["id"] as? String)
            let resumed = try await cli.run(["events", "--since", first, "--types", "assignment.changed", "--count", "1", "-o", "json"])
            #expect(jsonObject(resumed.out)["id"] as? String == objects.last?["id"] as? String, "\(resumed)")
        }
    }

    @Test func aBadCursorOrTypeIsRefusedWithExitThree() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let cli = ClientRunner(port: service.port)
            let cursor = try await cli.run(["events", "--since", "not-a-cursor"])
            #expect(cursor.status == 3 && cursor.err.contains("invalid_cursor"), "\(cursor)")
            let type = try await cli.run(["events", "--types", "device.exploded"])
            #expect(type.status == 3 && type.err.contains("invalid_event_type"), "\(type)")
        }
    }

    @Test func aCursorFromBeforeARestartGetsAResetLine() async throws {
        let database = try TemporaryDirectory(prefix: "vfiod-client-events")
        defer { database.remove() }
        let first = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, databaseDirectory: database.path)
        let cursor = try await withService(first) { service in
            try #require(try await service.get("/v1/devices").header("X-Vfiod-Cursor"))
        }
        let second = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, databaseDirectory: database.path)
        try await withService(second) { service in
            let result = try await ClientRunner(port: service.port).run(["events", "--since", cursor, "--count", "1", "--types", "device.changed"])
            #expect(result.status == 0, "\(result)")
            #expect(result.out.contains("  reset  ") && result.out.contains("reason=restarted"), "\(result.out)")
        }
    }
}
