import Foundation
import Synchronization
import Testing
@testable import API

/// Tickets for `GET /v1/events?ticket=`: one use, 60 s, bound to who asked.
struct EventTicketTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test func aTicketOpensOneStreamForItsPrincipal() {
        let tickets = EventTickets()
        let principal = Principal(name: "orch-1", role: .operator, tenant: "t1")
        let (ticket, _) = tickets.issue(for: principal)
        #expect(ticket.count == 64)
        #expect(tickets.redeem(ticket) == principal)
        #expect(tickets.redeem(ticket) == nil, "used")
        #expect(tickets.redeem(String(repeating: "0", count: 64)) == nil, "unknown")
    }

    @Test func aTicketExpiresAfterSixtySeconds() {
        let clock = Clock()
        let tickets = EventTickets(now: { clock.now.withLock { $0 } })
        let principal = Principal(name: "dash", role: .viewer, tenant: nil)
        let (early, expiresAt) = tickets.issue(for: principal)
        let (late, _) = tickets.issue(for: principal)
        #expect(expiresAt == clock.now.withLock { $0 }.addingTimeInterval(60))
        clock.advance(59)
        #expect(tickets.redeem(early) == principal)
        clock.advance(1)
        #expect(tickets.redeem(late) == nil, "expired")
    }
}
