import Foundation
import App
import Testing
import TestSupport

/// The event stream's ends: a restart in between (audit replay, then `reset`), a reader that does not
/// read (`overflow`, and vfiod forgets it), and a shutdown (`shutdown` to every stream).
@Suite struct EventLifetimeTests {
    @Test func resumingAfterARestartReplaysTheAuditedChangesThenResets() async throws {
        let databaseDirectory = try TemporaryDirectory(prefix: "vfiod-events-restart")
        defer { databaseDirectory.remove() }
        let first = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, databaseDirectory: databaseDirectory.path)
        let stream = try await first.openEvents()
        let id = try await first.lease(group: 10)
        let seen = try await stream.read(until: assignmentReaches(id, "active"))
        let cursor = try #require(seen.last?.id)
        try await first.releaseAndWait(id)
        await first.stop()
        let ending = try await stream.read { _ in false }
        #expect(ending.last?.type == "shutdown", "\(ending.suffix(2))")

        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist,
                                                    databaseDirectory: databaseDirectory.path)) { second in
            let resumed = try await second.openEvents(headers: [("Last-Event-ID", cursor)])
            let replay = try await resumed.read { $0.type == "reset" }
            let reset = try #require(replay.last)
            #expect(reset.type == "reset")
            #expect(reset.object["reason"] as? String == "restarted")
            #expect(replay.contains { $0.type == "assignment.changed" && $0.object["id"] as? String == id
                    && $0.object["state"] as? String == "released" }, "\(replay)")
            #expect(!replay.contains { $0.type == "operation.step" }, "steps are not stored")
            let after = Int(cursor.split(separator: "-")[0]) ?? 0
            let rows = try await second.items("/v1/audit").compactMap { $0["seq"] as? Int }.filter { $0 > after }
            #expect(replay.filter { $0.type == "audit.appended" }.compactMap(auditSeq) == rows, "every audited change, in order, once")
            // Live again after the reset: a new lease's events follow it.
            let next = try await second.lease(group: 11)
            let live = try await resumed.read(untilReachedWithSteps: next, "active")
            #expect(live.contains { $0.type == "operation.step" })
            #expect(!live.contains { $0.type == "reset" })
        }
    }

    @Test func aReaderThatDoesNotReadOverflowsAndIsDropped() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist,
                                                    configure: { $0.events.bufferBytes = 4096 })) { service in
            let stalled = try await service.openEvents(receiveBufferBytes: 2048)
            #expect(try await service.openEventStreams() == 1)
            var cycles = 0
            while try await service.openEventStreams() == 1, cycles < 200 {
                let id = try await service.lease(group: 10)
                try await service.releaseAndWait(id)
                cycles += 1
            }
            #expect(try await service.openEventStreams() == 0, "the stalled stream was dropped after \(cycles) leases")
            let frames = try await stalled.read { _ in false }
            let overflow = try #require(frames.last)
            #expect(overflow.type == "overflow", "\(frames.suffix(2))")
            #expect(overflow.object["cursor"] as? String == frames.dropLast().last?.id)
            // Resuming from the overflow's cursor picks up where the reader fell behind.
            let resumed = try await service.openEvents(headers: [("Last-Event-ID", try #require(overflow.id))])
            let id = try await service.lease(group: 11)
            let rest = try await resumed.read(until: assignmentReaches(id, "active"))
            #expect(!rest.isEmpty)
        }
    }

    @Test func pastEventsMaxStreamsAStreamIsRefusedAndForgotten() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist,
                                                    configure: { $0.maxStreams = 1 })) { service in
            let first = try await service.openEvents()
            #expect(first.status == 200)
            let second = try await service.openEvents()
            #expect(second.status == 503)
            #expect(second.header("Retry-After") != nil)
            #expect(try second.problem()["code"] as? String == "too_many_streams")
            // The refused stream's subscription is dropped at the hub's next publish; the first still reads.
            let id = try await service.lease(group: 10)
            _ = try await first.read(until: assignmentReaches(id, "active"))
            #expect(try await service.openEventStreams() == 1)
        }
    }

    @Test func shutdownEndsEveryStreamWithShutdown() async throws {
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)
        let plain = try await service.openEvents()
        let quiet = try await service.openEvents("?assignment=asg_nothing")
        let id = try await service.lease(group: 10)
        _ = try await plain.read(until: assignmentReaches(id, "active"))
        await service.stop()
        let rest = try await plain.read { _ in false }
        #expect(rest.last?.type == "shutdown")
        let filtered = try await quiet.read { _ in false }
        #expect(filtered.map(\.type) == ["shutdown"], "a filter that matches nothing still hears the shutdown")
    }
}
