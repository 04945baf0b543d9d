import Foundation
import Inventory
import Synchronization

/// One-use tickets for `GET /v1/events?ticket=`: a browser's `EventSource` cannot send an `Authorization`
/// header, so it asks for a ticket with its token (`POST /v1/events/tickets`) and opens the stream with
/// the ticket instead. A ticket is bound to the principal that asked, lives 60 s, opens one stream, and
/// only exists in memory (a restart forgets every ticket).
final class EventTickets: Sendable {
    /// How long a ticket may wait for its stream.
    static let lifetimeSeconds = 60.0
    /// The most tickets waiting at once; past it the oldest is forgotten.
    static let capacity = 4096
    private let tickets = Mutex<[String: (principal: Principal, expiresAt: Date)]>([:])
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// A new ticket for `principal` and when it expires.
    func issue(for principal: Principal) -> (ticket: String, expiresAt: Date) {
        var generator = SystemRandomNumberGenerator()
        let ticket = (0..<4).map { _ in Hex.pad(generator.next() as UInt64, 16) }.joined()
        let time = now()
        let expiresAt = time.addingTimeInterval(Self.lifetimeSeconds)
        tickets.withLock { tickets in
            tickets = tickets.filter { $0.value.expiresAt > time }
            if tickets.count >= Self.capacity, let oldest = tickets.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                tickets[oldest.key] = nil
            }
            tickets[ticket] = (principal, expiresAt)
        }
        return (ticket, expiresAt)
    }

    /// The principal of `ticket`, which is used up; `nil` when it is unknown, used or expired.
    func redeem(_ ticket: String) -> Principal? {
        let time = now()
        guard let entry = tickets.withLock({ $0.removeValue(forKey: ticket) }), entry.expiresAt > time else { return nil }
        return entry.principal
    }
}
