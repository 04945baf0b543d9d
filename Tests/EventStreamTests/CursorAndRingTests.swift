import Testing
@testable import EventStream

@Suite struct CursorTests {
    @Test func aCursorRoundTripsThroughItsText() throws {
        let cursor = EventCursor(auditSeq: 42, number: 7, boot: "00ff12ab")
        #expect(cursor.description == "42-7-00ff12ab")
        #expect(EventCursor(parsing: cursor.description) == cursor)
    }

    @Test(arguments: ["", "1-2", "1-2-3-4", "-1-2-ab", "1--ab", "a-2-ab", "1-2-", "1-2-AB", "1-2-xyz",
                      "99999999999999999999-1-ab", "1-2-" + String(repeating: "a", count: 33), "+1-2-ab", "1 -2-ab"])
    func malformedCursorsAreRefused(_ text: String) {
        #expect(EventCursor(parsing: text) == nil)
    }
}

@Suite struct RingTests {
    func event(_ number: UInt64, size: Int = 10) -> PublishedEvent {
        PublishedEvent(draft: EventDraft(type: "device.changed", data: Array(repeating: 65, count: size), audience: .tenant(nil)),
                       cursor: EventCursor(auditSeq: Int64(number), number: number, boot: "ab"))
    }

    @Test func theRingKeepsTheNewestEventsUpToItsCount() {
        var ring = EventRing(capacity: 3, capacityBytes: 1 << 20)
        var evicted: [PublishedEvent] = []
        for number in 1...5 { ring.append(event(UInt64(number)), evicted: &evicted) }
        #expect(evicted.map(\.cursor.number) == [1, 2])
        #expect(ring.count == 3)
        #expect(ring.oldestNumber == 3)
        #expect(ring.lastEvicted?.number == 2)
        #expect(ring.events(after: 0).map(\.cursor.number) == [3, 4, 5])
        #expect(ring.events(after: 3).map(\.cursor.number) == [4, 5])
        #expect(ring.events(after: 5).isEmpty)
        #expect(ring.event(numbered: 4)?.cursor.number == 4)
        #expect(ring.event(numbered: 2) == nil)
    }

    @Test func theRingKeepsItsBytesBounded() {
        var ring = EventRing(capacity: 1000, capacityBytes: 2000)
        var evicted: [PublishedEvent] = []
        for number in 1...100 { ring.append(event(UInt64(number), size: 100), evicted: &evicted) }
        #expect(ring.bytes <= 2000)
        #expect(ring.count < 10)
        #expect(evicted.count + ring.count == 100)
        #expect(ring.events(after: 0).last?.cursor.number == 100)
    }
}
