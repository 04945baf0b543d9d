import Testing
import EventStream

/// One publish's events reach each reader in one send (one wake of its connection), filtered and in
/// order, and a batch that does not fit overflows where single events would have.
@Suite struct BatchTests {
    func hub() -> EventHub {
        let audit = TestAudit()
        return EventHub(boot: "b1", auditSeq: 0, ringEvents: 100, ringBytes: 1 << 20, pendingLimit: 1 << 16, audit: audit.source)
    }

    @Test func aBatchIsOneSendPerReaderWithOnlyItsEvents() throws {
        let hub = hub()
        let everything = TestSink(), oneDevice = TestSink(), none = TestSink()
        _ = try hub.subscribe(admin, sink: everything, after: nil)
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: true, device: "0000:02:00.0"), sink: oneDevice, after: nil)
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: true, device: "0000:09:00.0"), sink: none, after: nil)
        hub.publish([ephemeral("a"), ephemeral("b", device: "0000:02:00.0"), ephemeral("c"), ephemeral("d", device: "0000:02:00.0")])
        #expect(everything.payloads == ["\"a\"", "\"b\"", "\"c\"", "\"d\""])
        #expect(everything.sends == 1)
        #expect(oneDevice.payloads == ["\"b\"", "\"d\""])
        #expect(oneDevice.sends == 1)
        #expect(none.sends == 0)
        let cursors = oneDevice.frames.compactMap { $0.id.flatMap(EventCursor.init(parsing:)) }
        #expect(cursors.map(\.number) == [2, 4])
    }

    @Test func aBatchThatDoesNotFitOverflowsAfterTheLastEventThatFits() throws {
        let hub = hub()
        // Room for about two of the batch's frames.
        let slow = TestSink(capacity: 150)
        _ = try hub.subscribe(admin, sink: slow, after: nil)
        hub.publish((1...5).map { ephemeral("event \($0)") })
        #expect(slow.isFinished)
        let overflow = try #require(slow.frames.last)
        #expect(overflow.type == "overflow")
        let sent = slow.frames.dropLast()
        #expect(!sent.isEmpty)
        #expect(sent.map(\.data) == (1...sent.count).map { "\"event \($0)\"" })
        #expect(overflow.id == sent.last?.id)
        #expect(hub.subscriberCount == 0)
    }

    @Test func readersOfOneKindShareABatchYetEachSkipsWhatItsCursorSaw() throws {
        let audit = TestAudit()
        let hub = EventHub(boot: "b1", auditSeq: 0, ringEvents: 100, ringBytes: 1 << 20, pendingLimit: 1 << 16, audit: audit.source)
        let rows = (1...3).map { _ in audit.append().1 }
        let live = TestSink(), ahead = TestSink()
        _ = try hub.subscribe(admin, sink: live, after: nil)
        // A cursor read from the database after row 2 committed, before the tail published it.
        _ = try hub.subscribe(admin, sink: ahead, after: EventCursor(auditSeq: 2, number: 0, boot: "b1"))
        hub.publish(rows.flatMap { $0 })
        #expect(live.payloads == ["\"audit 1\"", "\"row 1\"", "\"audit 2\"", "\"row 2\"", "\"audit 3\"", "\"row 3\""])
        #expect(live.sends == 1)
        #expect(ahead.payloads == ["\"audit 3\"", "\"row 3\""])
    }

    @Test func manyKindsOfReaderComeAndGoAndTheRestStillGetTheirEvents() throws {
        let hub = hub()
        let kept = TestSink()
        _ = try hub.subscribe(EventReader(tenant: nil, seesAudit: true, device: "0000:02:00.0"), sink: kept, after: nil)
        // Far more kinds than open streams: the hub forgets the kinds of the streams that ended.
        for round in 0..<5 {
            let passing = try (0..<100).map { index in
                try hub.subscribe(EventReader(tenant: nil, seesAudit: true, device: "0000:9\(round):\(index).0"), sink: TestSink(), after: nil)
            }
            passing.forEach { $0.cancel() }
            hub.publish([ephemeral("r\(round)", device: "0000:02:00.0"), ephemeral("other", device: "0000:03:00.0")])
        }
        #expect(kept.payloads == (0..<5).map { "\"r\($0)\"" })
        #expect(hub.subscriberCount == 1)
    }
}
