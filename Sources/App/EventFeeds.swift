import API
import Assignments
import EventStream
import Store

/// The event stream's hub and the feeds that are not the API's: the audit tail (durable events, after
/// each commit) and the lease service's finished steps (`operation.step`). The inventory's events are
/// published by the API when it encodes each snapshot.
struct EventFeeds: Sendable {
    /// The hub every feed publishes to and every stream reads from.
    let hub: EventHub
    /// Reads the audit history after each commit.
    let tail: AuditTail

    /// A hub for this boot, starting at the audit history's head, and its tail, handed the rows of each of
    /// `database`'s commits.
    static func make(_ settings: EventSettings, database: Database) throws(StartError) -> EventFeeds {
        let head = try StartError.wrap("cannot read the audit history of \(database.path)") { try AuditLog.head(in: database).seq }
        let hub = EventHub(boot: EventHub.makeBootTag(), auditSeq: head, ringEvents: settings.ringEvents,
                           ringBytes: settings.ringBytes, pendingLimit: settings.bufferBytes,
                           audit: EventDrafts.auditSource(database))
        let tail = AuditTail(database: database, hub: hub, after: head)
        database.observeCommits { rows in tail.deliver(rows) }
        return EventFeeds(hub: hub, tail: tail)
    }

    /// What the lease service calls with each transaction's finished steps.
    var stepObserver: @Sendable ([FinishedStep]) -> Void {
        { [hub] steps in hub.publish(steps.map(EventDrafts.step)) }
    }

    /// An operation's last steps, held to go out in front of the inventory's events in the same publish.
    var heldSteps: HeldSteps {
        HeldSteps(hold: { [hub] steps in hub.hold(steps.map(EventDrafts.step)) }, release: { [hub] in hub.publishHeld() })
    }
}
