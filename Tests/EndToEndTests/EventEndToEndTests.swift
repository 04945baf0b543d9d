import Foundation
import App
import Store
import Testing
import TestSupport

/// `GET /v1/events` against a real vfiod on a simulated host: a lease's events, scoping, list then watch,
/// resume within a boot and across a restart, tickets, overflow and shutdown.
@Suite struct EventEndToEndTests {
    struct Tokens {
        let admin: String, auditor: String, viewer: String, one: String, two: String
    }

    static func withTokens(_ configure: @escaping (inout Configuration) -> Void = { _ in },
                           _ body: (TestService, Tokens) async throws -> Void) async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true,
                                                    configure: configure)) { service in
            let store = TokenStore(database: try Database(path: service.service.configuration.databasePath))
            let tokens = Tokens(admin: try store.create(name: "root", role: .admin).token,
                                auditor: try store.create(name: "books", role: .auditor).token,
                                viewer: try store.create(name: "dash", role: .viewer).token,
                                one: try store.create(name: "orch-1", role: .operator, tenant: "t1").token,
                                two: try store.create(name: "orch-2", role: .operator, tenant: "t2").token)
            try await body(service, tokens)
        }
    }

    @Test func aLeasesEventsArriveAndMatchTheDocument() async throws {
        try await Self.withTokens { service, tokens in
            let auditor = try await service.openEvents(token: tokens.auditor)
            let viewer = try await service.openEvents(token: tokens.viewer)
            #expect(auditor.status == 200)
            #expect(auditor.header("Content-Type") == "text/event-stream")
            let id = try await service.lease(group: 10, token: tokens.admin)
            let seen = Seen()
            let stop: @Sendable (SSEFrame) -> Bool = { frame in
                seen.note(frame, id: id)
                return seen.complete
            }
            let frames = try await auditor.read(until: stop)
            let states = frames.filter { $0.type == "assignment.changed" }.compactMap { $0.object["state"] as? String }
            #expect(states == ["binding", "active"], "\(frames)")
            let operations = frames.filter { $0.type == "operation.changed" }.compactMap { $0.object["state"] as? String }
            // The bind's start commits with its end: no `running` row, the end's row says when it started.
            #expect(operations == ["succeeded"], "\(operations)")
            let end = frames.first { $0.type == "audit.appended" && $0.object["action"] as? String == "operation.succeeded" }
            #expect((end?.object["after"] as? [String: Any])?["startedAt"] is String, "\(String(describing: end?.object))")
            let steps = frames.filter { $0.type == "operation.step" }
            #expect(!steps.isEmpty)
            #expect(steps.allSatisfy { ($0.object["durationMs"] as? Int ?? -1) >= 0 && $0.object["assignmentId"] as? String == id })
            #expect(frames.contains { $0.type == "device.changed" && $0.object["assignmentId"] as? String == id
                    && $0.object["driver"] as? String == "vfio-pci" }, "\(frames.filter { $0.type == "device.changed" })")
            #expect(frames.contains { $0.type == "audit.appended" })
            #expect(auditor.preamble.first == "retry: 2000")
            let cursors = frames.compactMap(\.id)
            #expect(cursors.count == frames.count)
            try expectFramesMatchTheDocument(frames)

            let forViewer = try await viewer.read(until: assignmentReaches(id, "active"))
            #expect(!forViewer.isEmpty)
            #expect(!forViewer.contains { $0.type == "audit.appended" }, "a viewer never gets the audit")
        }
    }

    @Test func anOperatorNeverSeesAnotherTenantsAssignments() async throws {
        try await Self.withTokens { service, tokens in
            let one = try await service.openEvents(token: tokens.one)
            let other = try await service.lease(group: 11, tenant: "t2", token: tokens.two)
            let own = try await service.lease(group: 10, tenant: "t1", token: tokens.one)
            let frames = try await one.read(untilReachedWithSteps: own, "active")
            #expect(frames.contains { $0.type == "device.changed" && $0.object["address"] as? String == "0000:06:01.0" },
                    "inventory events reach every reader")
            for frame in frames {
                #expect(!frame.data.contains(other), "\(frame)")
                #expect(!frame.data.contains("\"t2\""), "\(frame)")
                #expect(frame.type != "audit.appended")
            }
            #expect(frames.contains { $0.type == "operation.step" && $0.object["assignmentId"] as? String == own })
        }
    }

    @Test func aListsCursorThenTheStreamSeesEveryLaterChangeOnce() async throws {
        try await Self.withTokens { service, tokens in
            let first = try await service.lease(group: 10, token: tokens.admin)
            let list = try await service.send("GET", "/v1/assignments", token: tokens.admin)
            let cursor = try #require(list.response.header("X-Vfiod-Cursor"))
            let listed = try #require(list.body["items"] as? [[String: Any]]).count
            #expect(listed == 1)
            try await service.releaseAndWait(first, token: tokens.admin)
            let stream = try await service.openEvents("?since=\(cursor)&types=assignment.changed,audit.appended", token: tokens.admin)
            let second = try await service.lease(group: 11, token: tokens.admin)
            let frames = try await stream.read(until: assignmentReaches(second, "active"))
            let seqs = frames.compactMap(auditSeq)
            let after = Int(cursor.split(separator: "-")[0]) ?? 0
            let audit = try await service.send("GET", "/v1/audit?pageSize=1000", token: tokens.admin)
            let rows = try #require(audit.body["items"] as? [[String: Any]])
            let expected = rows.compactMap { $0["seq"] as? Int }.filter { $0 > after && $0 <= (seqs.max() ?? 0) }
            #expect(Set(frames.filter { $0.type == "audit.appended" }.compactMap(auditSeq)) == Set(expected))
            #expect(frames.filter { $0.type == "audit.appended" }.count == expected.count, "no row twice")
            let changes = frames.filter { $0.type == "assignment.changed" }
            #expect(changes.count == Set(changes.compactMap(auditSeq)).count, "no change twice")
            #expect(changes.contains { $0.object["id"] as? String == first && $0.object["state"] as? String == "released" })
            #expect(!changes.contains { $0.object["id"] as? String == first && $0.object["state"] as? String == "active" },
                    "the list already showed it active")
        }
    }

    @Test func resumingByLastEventIDWithinABootLosesNothing() async throws {
        try await Self.withTokens { service, tokens in
            let reference = try await service.openEvents(token: tokens.admin)
            let interrupted = try await service.openEvents(token: tokens.admin)
            let id = try await service.lease(group: 10, token: tokens.admin)
            let head = try await interrupted.read { $0.type == "operation.step" }
            let last = try #require(head.last?.id)
            try await service.releaseAndWait(id, token: tokens.admin)
            let resumed = try await service.openEvents(token: tokens.admin, headers: [("Last-Event-ID", last)])
            let whole = try await reference.read(until: assignmentReaches(id, "released"))
            let rest = try await resumed.read(until: assignmentReaches(id, "released"))
            let joined = (head + rest).map { "\($0.type) \($0.data)" }
            #expect(joined == whole.map { "\($0.type) \($0.data)" })
            #expect(!rest.contains { $0.type == "reset" })
        }
    }

    @Test func badCursorsTypesAndTicketsAreRefused() async throws {
        try await Self.withTokens { service, tokens in
            for (query, headers, code) in [("?since=nonsense", [(String, String)](), "invalid_cursor"),
                                           ("", [("Last-Event-ID", "999999-0-abc")], "invalid_cursor"),
                                           ("?types=device.changed,nope", [], "invalid_event_type"),
                                           ("?device=41:00.0", [], "invalid_address"),
                                           ("?bogus=1", [], "unknown_parameter")] {
                let refused = try await service.openEvents(query, token: tokens.viewer, headers: headers)
                #expect(refused.status == 400, "\(query)")
                #expect(try refused.problem()["code"] as? String == code, "\(query)")
            }
            let anonymous = try await service.openEvents()
            #expect(anonymous.status == 401)
            let (made, ticket) = try await service.send("POST", "/v1/events/tickets", token: tokens.one)
            #expect(made.status == 201)
            let value = try #require(ticket["ticket"] as? String)
            #expect(ticket["expiresAt"] is String)
            let opened = try await service.openEvents("?ticket=\(value)")
            #expect(opened.status == 200)
            let again = try await service.openEvents("?ticket=\(value)")
            #expect(again.status == 401)
            #expect(try again.problem()["code"] as? String == "invalid_ticket")
            let wrong = try await service.openEvents("?ticket=" + String(repeating: "0", count: 64))
            #expect(try wrong.problem()["code"] as? String == "invalid_ticket")
            // The ticket stands for its operator: scoped to t1.
            let other = try await service.lease(group: 11, tenant: "t2", token: tokens.two)
            let own = try await service.lease(group: 10, tenant: "t1", token: tokens.one)
            let frames = try await opened.read(until: assignmentReaches(own, "active"))
            #expect(!frames.contains { $0.data.contains(other) })
        }
    }
}

/// What a lease's stream has shown so far.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var active = false, succeeded = false, device = false, audit = false

    func note(_ frame: SSEFrame, id: String) {
        lock.withLock {
            let object = frame.object
            if frame.type == "assignment.changed", object["id"] as? String == id, object["state"] as? String == "active" { active = true }
            if frame.type == "operation.changed", object["assignmentId"] as? String == id, object["state"] as? String == "succeeded" { succeeded = true }
            if frame.type == "device.changed", object["assignmentId"] as? String == id, object["driver"] as? String == "vfio-pci" { device = true }
            if frame.type == "audit.appended" { audit = true }
        }
    }

    var complete: Bool { lock.withLock { active && succeeded && device && audit } }
}
