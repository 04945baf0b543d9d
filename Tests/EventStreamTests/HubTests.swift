import Testing
import EventStream
import Synchronization

@Suite struct HubTests {
    func hub(_ audit: TestAudit, boot: String = "b1", ring: Int = 100) -> EventHub {
        EventHub(boot: boot, auditSeq: audit.source.headValue, ringEvents: ring, ringBytes: 1 << 20, pendingLimit: 1 << 16,
                 audit: audit.source)
    }

    /// Publishes an audit row the way the audit tail does.
    func publishRow(_ audit: TestAudit, to hub: EventHub, tenant: String = "a", assignment: String = "asg_1") {
        hub.publish(audit.append(tenant: tenant, assignment: assignment).1)
    }

    @Test func liveEventsReachReadersInOrderWithIncreasingCursors() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        let sink = TestSink()
        _ = try hub.subscribe(admin, sink: sink, after: nil)
        hub.publish([ephemeral("one")])
        publishRow(audit, to: hub)
        hub.publish([ephemeral("two")])
        #expect(sink.payloads == ["\"one\"", "\"audit 1\"", "\"row 1\"", "\"two\""])
        let cursors = sink.frames.compactMap { $0.id.flatMap(EventCursor.init(parsing:)) }
        #expect(cursors.map(\.number) == [1, 2, 3, 4])
        // Every event of a row but the last keeps the seq before it: a reader resuming between them gets the rest.
        #expect(cursors.map(\.auditSeq) == [0, 0, 1, 1])
        #expect(hub.current == cursors.last)
    }

    /// Held drafts (an operation's last steps) go out in front of the next publish, in the same send to each
    /// reader, numbered in that order; `publishHeld` sends them when no publish took them, and is a no-op
    /// with nothing held.
    @Test func heldDraftsGoOutWithTheNextPublishOrOnTheirOwn() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        let sink = TestSink()
        _ = try hub.subscribe(admin, sink: sink, after: nil)
        hub.hold([ephemeral("step 1"), ephemeral("step 2")])
        #expect(sink.frames.isEmpty && hub.current.number == 0, "held, not published")
        hub.publish([ephemeral("device")])
        #expect(sink.payloads == ["\"step 1\"", "\"step 2\"", "\"device\""])
        #expect(sink.sends == 1, "one send for the held drafts and the publish")
        hub.publishHeld()
        #expect(hub.current.number == 3, "nothing was left to publish")
        hub.hold([ephemeral("step 3")])
        publishRow(audit, to: hub)
        #expect(sink.payloads.suffix(3) == ["\"step 3\"", "\"audit 1\"", "\"row 1\""])
        let cursors = sink.frames.compactMap { $0.id.flatMap(EventCursor.init(parsing:)) }
        #expect(cursors.map(\.number) == [1, 2, 3, 4, 5, 6])
        #expect(cursors.map(\.auditSeq) == [0, 0, 0, 0, 0, 1], "a held draft in front of a row keeps the seq before it")
        hub.hold([ephemeral("step 4")])
        hub.publishHeld()
        #expect(sink.payloads.last == "\"step 4\"" && hub.current.number == 7 && sink.sends == 3)
    }

    @Test func scopeAndFiltersDecideWhoGetsWhat() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        let tenantA = TestSink(), tenantB = TestSink(), viewer = TestSink(), filtered = TestSink()
        _ = try hub.subscribe(EventReader(tenant: "a", seesAudit: false), sink: tenantA, after: nil)
        _ = try hub.subscribe(EventReader(tenant: "b", seesAudit: false), sink: tenantB, after: nil)
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: false), sink: viewer, after: nil)
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: true, types: ["assignment.changed"], assignment: "asg_2"),
                              sink: filtered, after: nil)
        publishRow(audit, to: hub, tenant: "a", assignment: "asg_1")
        publishRow(audit, to: hub, tenant: "b", assignment: "asg_2")
        hub.publish([EventDraft(type: "device.changed", data: Array("\"full asg_2\"".utf8),
                                keys: EventKeys(devices: ["0000:01:00.0"], assignment: "asg_2"),
                                audience: .everyone(assignment: "asg_2", owner: "b", redacted: Array("\"redacted\"".utf8)))])
        #expect(tenantA.payloads == ["\"row 1\"", "\"redacted\""])
        #expect(tenantB.payloads == ["\"row 2\"", "\"full asg_2\""])
        #expect(viewer.payloads == ["\"row 1\"", "\"row 2\"", "\"full asg_2\""])
        #expect(filtered.payloads == ["\"row 2\""])
    }

    @Test func aTenantReaderCannotFindAnotherTenantsAssignmentThroughTheFilter() throws {
        let hub = hub(TestAudit())
        let sink = TestSink()
        _ = try hub.subscribe(EventReader(tenant: "a", seesAudit: false, assignment: "asg_2"), sink: sink, after: nil)
        hub.publish([EventDraft(type: "device.changed", data: Array("\"x\"".utf8), keys: EventKeys(assignment: "asg_2"),
                                audience: .everyone(assignment: "asg_2", owner: "b", redacted: Array("\"r\"".utf8)))])
        #expect(sink.payloads.isEmpty)
    }

    /// Frames are encoded when a reader first asks: events published while no stream is open are replayed
    /// with the same frames (full and redacted) a live reader got.
    @Test func eventsPublishedWithNoReaderReplayWithTheFramesALiveReaderGets() throws {
        let quiet = hub(TestAudit())
        let live = hub(TestAudit())
        let liveA = TestSink(), liveB = TestSink()
        _ = try live.subscribe(EventReader(tenant: "a", seesAudit: false), sink: liveA, after: nil)
        _ = try live.subscribe(EventReader(tenant: "b", seesAudit: false), sink: liveB, after: nil)
        let drafts = [ephemeral("one"),
                      EventDraft(type: "device.changed", data: Array("\"full asg_2\"".utf8),
                                 keys: EventKeys(devices: ["0000:01:00.0"], assignment: "asg_2"),
                                 audience: .everyone(assignment: "asg_2", owner: "b", redacted: Array("\"redacted\"".utf8)))]
        // Resumed after an event the ring still holds (after none, the stream would start with a reset).
        quiet.publish([ephemeral("zero")])
        live.publish([ephemeral("zero")])
        let start = quiet.current
        quiet.publish(drafts)
        live.publish(drafts)
        let replayA = TestSink(), replayB = TestSink()
        _ = try quiet.subscribe(EventReader(tenant: "a", seesAudit: false), sink: replayA, after: start)
        _ = try quiet.subscribe(EventReader(tenant: "b", seesAudit: false), sink: replayB, after: start)
        #expect(replayA.payloads == ["\"one\"", "\"redacted\""])
        #expect(replayB.payloads == ["\"one\"", "\"full asg_2\""])
        #expect(replayA.frames.map(\.data) == Array(liveA.frames.map(\.data).dropFirst()))
        #expect(replayB.frames.map(\.data) == Array(liveB.frames.map(\.data).dropFirst()))
        #expect(replayA.frames.compactMap(\.id) == Array(liveA.frames.compactMap(\.id).dropFirst()))
    }

    @Test func resumingWithinTheBootLosesNothingAndRepeatsNothing() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        let first = TestSink()
        _ = try hub.subscribe(admin, sink: first, after: nil)
        hub.publish([ephemeral("e1")])
        publishRow(audit, to: hub)
        let cut = try #require(first.frames.last?.id.flatMap(EventCursor.init(parsing:)))
        hub.publish([ephemeral("e2")])
        publishRow(audit, to: hub)
        let second = TestSink()
        _ = try hub.subscribe(admin, sink: second, after: cut)
        hub.publish([ephemeral("e3")])
        #expect(second.payloads == ["\"e2\"", "\"audit 2\"", "\"row 2\"", "\"e3\""])
        #expect(!second.frames.contains { $0.type == "reset" })
    }

    @Test func aCursorFromADatabaseReadSkipsRowsItAlreadyShowsAndReplaysTheRest() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        // Rows 1 and 2 committed; the tail published only row 1 when a list read the database.
        publishRow(audit, to: hub)
        let before = hub.current
        let (_, row2) = audit.append()
        let listCursor = hub.cursor(auditSeq: 2, before: before)
        let (_, row3) = audit.append()
        let sink = TestSink()
        _ = try hub.subscribe(admin, sink: sink, after: listCursor)
        hub.publish(row2)
        hub.publish(row3)
        #expect(sink.payloads == ["\"audit 3\"", "\"row 3\""])
    }

    @Test func aCursorFromADatabaseReadSkipsRowsTheRingHoldsAndItShows() throws {
        let audit = TestAudit()
        let hub = hub(audit)
        publishRow(audit, to: hub)
        // The list takes the event number, then the tail publishes row 2, then the list's read sees row 2.
        let before = hub.current
        publishRow(audit, to: hub)
        let listCursor = hub.cursor(auditSeq: 2, before: before)
        let sink = TestSink()
        _ = try hub.subscribe(admin, sink: sink, after: listCursor)
        publishRow(audit, to: hub)
        #expect(sink.payloads == ["\"audit 3\"", "\"row 3\""])
    }

    @Test func aCursorOfAnotherBootReplaysTheAuditThenResets() throws {
        let audit = TestAudit()
        let old = hub(audit, boot: "01d")
        let sink = TestSink()
        _ = try old.subscribe(EventReader(tenant: nil, seesAudit: false), sink: sink, after: nil)
        publishRow(audit, to: old)
        let cut = try #require(sink.frames.last?.id.flatMap(EventCursor.init(parsing:)))
        audit.append()
        audit.append()
        let restarted = hub(audit, boot: "2e3")
        let resumed = TestSink()
        _ = try restarted.subscribe(EventReader(tenant: nil, seesAudit: false), sink: resumed, after: cut)
        restarted.publish([ephemeral("live")])
        #expect(resumed.frames.map(\.type) == ["assignment.changed", "assignment.changed", "reset", "device.changed"])
        #expect(resumed.payloads == ["\"row 2\"", "\"row 3\"", "\"live\""])
        let reset = try #require(resumed.frames.first { $0.type == "reset" })
        #expect(reset.data.contains("\"reason\":\"restarted\""))
        #expect(reset.id == "3-0-2e3")
    }

    @Test func aCursorWhoseEventsLeftTheRingGetsAnExpiredReset() throws {
        let audit = TestAudit()
        let hub = hub(audit, ring: 2)
        let sink = TestSink()
        _ = try hub.subscribe(admin, sink: sink, after: nil)
        hub.publish([ephemeral("e1")])
        let cut = try #require(sink.frames.last?.id.flatMap(EventCursor.init(parsing:)))
        for name in ["e2", "e3", "e4"] { hub.publish([ephemeral(name)]) }
        let resumed = TestSink()
        _ = try hub.subscribe(admin, sink: resumed, after: cut)
        #expect(resumed.frames.map(\.type) == ["reset"])
        #expect(resumed.frames.first?.data.contains("expired") == true)
    }

    @Test func cursorsAheadOfTheStreamAreRefused() {
        let audit = TestAudit()
        let hub = hub(audit)
        #expect(throws: EventStreamError.self) {
            try hub.subscribe(admin, sink: TestSink(), after: EventCursor(auditSeq: 0, number: 5, boot: "b1"))
        }
        #expect(throws: EventStreamError.self) {
            try hub.subscribe(admin, sink: TestSink(), after: EventCursor(auditSeq: 3, number: 0, boot: "b1"))
        }
        #expect(hub.subscriberCount == 0)
    }

    @Test func aReaderThatDoesNotReadOverflowsAndIsForgotten() throws {
        let hub = hub(TestAudit())
        let slow = TestSink(capacity: 200)
        let fast = TestSink()
        _ = try hub.subscribe(admin, sink: slow, after: nil)
        _ = try hub.subscribe(admin, sink: fast, after: nil)
        for index in 1...100 { hub.publish([ephemeral("event \(index)")]) }
        #expect(slow.isFinished)
        let overflow = try #require(slow.frames.last)
        #expect(overflow.type == "overflow")
        #expect(overflow.id == slow.frames.dropLast().last?.id)
        #expect(fast.payloads.count == 100)
        #expect(hub.subscriberCount == 1)
    }

    /// Rows archived out of the database after the reader's cursor are never skipped in silence: the
    /// reader gets `reset` (reason `archived`) and lists again, within a run and across a restart.
    @Test func aCursorBeforeArchivedRowsGetsAnArchivedReset() throws {
        let audit = TestAudit()
        for _ in 0..<3 { audit.append() }
        // Rows 1 and 2 went to an archive segment; row 3 is still in the database.
        let archived = AuditEventSource(head: { audit.source.headValue }) { after, through, limit in
            try audit.source.rows(max(after, 2), through, limit)
        }
        for boot in ["b1", "b2"] {
            let hub = EventHub(boot: "b1", auditSeq: 3, ringEvents: 100, ringBytes: 1 << 20, pendingLimit: 1 << 16, audit: archived)
            let sink = TestSink()
            _ = try hub.subscribe(admin, sink: sink, after: EventCursor(auditSeq: 0, number: 0, boot: boot))
            hub.publish([ephemeral("live")])
            #expect(sink.frames.map(\.type) == ["reset", "device.changed"])
            let reset = try #require(sink.frames.first)
            #expect(reset.data.contains("\"reason\":\"archived\""))
        }
    }

    @Test func liveEventsQueueBehindTheReplay() throws {
        let audit = TestAudit()
        let hubBox = HubBox()
        let source = AuditEventSource(head: { audit.source.headValue }) { after, through, limit in
            // A live event arrives while the replay reads the audit.
            hubBox.hub?.publish([ephemeral("during replay")])
            return try audit.source.rows(after, through, limit)
        }
        let hub = EventHub(boot: "b1", auditSeq: 0, ringEvents: 100, ringBytes: 1 << 20, pendingLimit: 1 << 16, audit: source)
        hubBox.hub = hub
        let first = TestSink()
        _ = try hub.subscribe(admin, sink: first, after: nil)
        publishRow(audit, to: hub)
        // A cursor that has seen no audit row but every event number (a filtered reader's, or a list's).
        let cut = EventCursor(auditSeq: 0, number: hub.current.number, boot: "b1")
        let resumed = TestSink()
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: false), sink: resumed, after: cut)
        #expect(resumed.payloads == ["\"row 1\"", "\"during replay\""])
    }
}

final class HubBox: @unchecked Sendable {
    var hub: EventHub?
}

extension AuditEventSource {
    var headValue: Int64 { (try? head()) ?? 0 }
}

/// A draft made with an encoder is written only when a reader first needs its data, once, whoever asks.
@Suite struct LazyDataTests {
    @Test func dataIsEncodedOnceAndOnlyWhenAReaderFirstNeedsIt() throws {
        let calls = Counter()
        let draft = EventDraft(type: "audit.appended", estimatedSize: 100, audience: .tenant(nil)) {
            calls.increment()
            return Array("\"lazy\"".utf8)
        }
        let hub = EventHub(boot: "b1", auditSeq: 0, ringEvents: 100, ringBytes: 1 << 20, pendingLimit: 1 << 16,
                           audit: TestAudit().source)
        hub.publish([ephemeral("zero")])
        let start = hub.current
        hub.publish([draft])
        #expect(calls.value == 0)
        #expect(draft.dataSize == 100)
        let first = TestSink(), second = TestSink()
        _ = try hub.subscribe(admin, sink: first, after: start)
        _ = try hub.subscribe(admin, sink: second, after: start)
        #expect(first.payloads == ["\"lazy\""])
        #expect(second.payloads == ["\"lazy\""])
        #expect(calls.value == 1)
        // Once written, the draft (and every copy of it) reports the data's real length.
        #expect(draft.dataSize == 6)
        #expect(draft.data == Array("\"lazy\"".utf8))
        #expect(calls.value == 1)
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
