import Foundation
import Testing
import TestSupport

/// Helpers of the event stream's end-to-end tests: opening streams on dedicated threads, reading frames,
/// and checking each frame's data against the OpenAPI document's `x-event-types`.
extension TestService {
    /// Opens `GET /v1/events` + `query`; returns once the response head arrived (the subscription exists).
    func openEvents(_ query: String = "", token: String? = nil, headers: [(String, String)] = [],
                    receiveBufferBytes: Int32? = nil) async throws -> EventStreamClient {
        let port = port
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        let frozen = all
        return try await runOnDedicatedThread {
            try EventStreamClient(port: port, path: "/v1/events" + query, headers: frozen, receiveBufferBytes: receiveBufferBytes)
        }
    }

    /// The `vfiod_event_streams` gauge.
    func openEventStreams() async throws -> Int? {
        let text = try await get("/metrics").bodyText
        let line = text.split(separator: "\n").first { $0.hasPrefix("vfiod_event_streams ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) }
    }

    /// Creates a lease of `group` for `tenant` and waits for its bind; returns the assignment id.
    func lease(group: Int, tenant: String = "t1", token: String? = nil) async throws -> String {
        let created = try await send("POST", "/v1/assignments", json: ["group": group, "holder": ["id": "vm-\(group)", "tenant": tenant]],
                                     token: token)
        #expect(created.response.status == 202, "\(created.response.bodyText)")
        let bind = try await finish(operation: created.response.header("Operation-Location"), token: token)
        #expect(bind["state"] as? String == "succeeded", "\(bind)")
        return try #require(created.body["id"] as? String)
    }

    /// Releases `id` and waits for the release.
    func releaseAndWait(_ id: String, token: String? = nil) async throws {
        let released = try await send("DELETE", "/v1/assignments/\(id)", token: token)
        #expect(released.response.status == 202, "\(released.response.bodyText)")
        let operation = try await finish(operation: released.response.header("Operation-Location"), token: token)
        #expect(operation["state"] as? String == "succeeded", "\(operation)")
    }
}

extension EventStreamClient {
    /// Frames until `stop`, read on a dedicated thread.
    func read(until stop: @escaping @Sendable (SSEFrame) -> Bool) async throws -> [SSEFrame] {
        try await runOnDedicatedThread { try self.frames(until: stop) }
    }

    /// Frames until assignment `id` reached `state` and a step of its operation came. The steps are
    /// published once the operation's end committed — the commit that changes the assignment, whose
    /// `assignment.changed` the audit tail publishes — so either may come first.
    func read(untilReachedWithSteps id: String, _ state: String) async throws -> [SSEFrame] {
        let step: @Sendable (SSEFrame) -> Bool = { $0.type == "operation.step" && $0.object["assignmentId"] as? String == id }
        var frames = try await read(until: assignmentReaches(id, state))
        if !frames.contains(where: step) { frames += try await read(until: step) }
        return frames
    }
}

/// A frame predicate: `assignment.changed` of `id` reaching `state`.
func assignmentReaches(_ id: String, _ state: String) -> @Sendable (SSEFrame) -> Bool {
    { $0.type == "assignment.changed" && $0.object["id"] as? String == id && $0.object["state"] as? String == state }
}

/// Expects every frame's data to match the schema the document gives its type.
func expectFramesMatchTheDocument(_ frames: [SSEFrame], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let document = try OpenAPIDocument()
    let schemas = document.eventSchemas
    for frame in frames {
        guard let schema = schemas[frame.type] else {
            Issue.record("event type \(frame.type) is not in x-event-types", sourceLocation: sourceLocation)
            continue
        }
        let value = try JSONSerialization.jsonObject(with: Data(frame.data.utf8), options: [.fragmentsAllowed])
        let problems = document.violations(of: value, against: schema)
        #expect(problems.isEmpty, "\(frame.type): \(problems) in \(frame.data)", sourceLocation: sourceLocation)
    }
}

/// The audit seq an event derives from, when it is durable.
func auditSeq(_ frame: SSEFrame) -> Int? {
    switch frame.type {
    case "audit.appended": frame.object["seq"] as? Int
    case "assignment.changed", "operation.changed": frame.object["auditSeq"] as? Int
    default: nil
    }
}
