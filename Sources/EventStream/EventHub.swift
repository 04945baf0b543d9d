import Synchronization

/// The audit history as the hub replays it: the head's seq, and rows as events.
public struct AuditEventSource: Sendable {
    /// One audit row's events.
    public typealias Row = (seq: Int64, events: [EventDraft])
    /// The newest audit row's seq (0 for none). May block (SQLite).
    public let head: @Sendable () throws -> Int64
    /// Up to `limit` rows with `after < seq <= through`, in seq order. May block (SQLite).
    public let rows: @Sendable (_ after: Int64, _ through: Int64, _ limit: Int) throws -> [Row]

    /// Makes a source from its two reads.
    public init(head: @escaping @Sendable () throws -> Int64,
                rows: @escaping @Sendable (_ after: Int64, _ through: Int64, _ limit: Int) throws -> [Row]) {
        self.head = head
        self.rows = rows
    }
}

/// Why a stream could not be opened.
public enum EventStreamError: Error, Sendable {
    /// The cursor is malformed or ahead of what exists.
    case invalidCursor(String)
    /// The audit history could not be read for the replay.
    case auditUnavailable(String)
}

/// The event hub: numbers events, keeps the last ones in a ring, hands each to the readers it is for, and
/// resumes a reader from its cursor. Knows nothing of HTTP or SQLite: the app gives it an audit source.
///
/// Publishing never waits for a reader: each one's bytes go into its own bounded sink, and one that is
/// full ends with `overflow`. Memory is the ring (bounded) and the readers' sinks (each bounded).
public final class EventHub: Sendable {
    /// This boot's tag.
    public let boot: String
    /// The audit history the hub replays from.
    let audit: AuditEventSource
    /// The most bytes a reader's events may queue behind its replay.
    let pendingLimit: Int
    /// Rows read from the audit per replay query.
    static let replayPage = 256
    private let state: Mutex<State>
    /// `state.head` again, set with it under `state`'s lock: every response reads the head for its cursor,
    /// and this lock is never held across a publish's delivery, so those reads do not queue behind one.
    private let publishedHead: Mutex<EventCursor>
    /// Ephemeral drafts kept to go out in front of the next publish (``hold(_:)``), under a lock of their
    /// own: a feed holding its drafts does not queue behind a publish. Taken only inside `state`'s lock
    /// (never the other way round), so the publish that takes them sends them before anyone else's.
    private let held = Mutex<[EventDraft]>([])

    private struct State {
        var ring: EventRing
        /// The cursor of the last event published (number 0: none yet).
        var head: EventCursor
        /// The open streams, each with the number of its reader's kind.
        var subscriptions: [(subscription: EventSubscription, kind: Int)] = []
        var kinds = ReaderKinds()

        mutating func add(_ subscription: EventSubscription) {
            subscriptions.append((subscription, kinds.number(of: subscription.reader)))
        }

        /// Forgets ended streams, and the kinds of reader none of the open ones is.
        mutating func removeEnded() {
            subscriptions.removeAll { $0.subscription.isEnded }
            guard kinds.isStale(open: subscriptions.count) else { return }
            kinds.removeAll()
            subscriptions = subscriptions.map { ($0.subscription, kinds.number(of: $0.subscription.reader)) }
        }
    }

    /// Makes the hub of a boot that starts with audit seq `auditSeq` published.
    public init(boot: String, auditSeq: Int64, ringEvents: Int, ringBytes: Int, pendingLimit: Int, audit: AuditEventSource) {
        self.boot = boot
        self.audit = audit
        self.pendingLimit = pendingLimit
        let head = EventCursor(auditSeq: auditSeq, number: 0, boot: boot)
        state = Mutex(State(ring: EventRing(capacity: ringEvents, capacityBytes: ringBytes), head: head))
        publishedHead = Mutex(head)
    }

    /// A new random boot tag (16 lowercase hex digits).
    public static func makeBootTag() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The cursor of the last event published.
    public var current: EventCursor { publishedHead.withLock { $0 } }

    /// How many streams are open.
    public var subscriberCount: Int { state.withLock { $0.subscriptions.filter { !$0.subscription.isEnded }.count } }

    /// A cursor for a response read from the database: audit seq `auditSeq` (read in the response's
    /// transaction) with the event number `before` (``current`` taken before the read).
    public func cursor(auditSeq: Int64, before: EventCursor) -> EventCursor {
        EventCursor(auditSeq: auditSeq, number: before.number, boot: boot)
    }

    /// Publishes `drafts` in order and returns the cursor after them. Durable drafts (audit seq set) must
    /// come in audit seq order, each row's events together; every event of a row but its last carries
    /// the seq before the row (a reader resuming between them gets the rest of the row).
    /// Held drafts (``hold(_:)``) go out in front of `drafts`, in the same pass.
    @discardableResult
    public func publish(_ drafts: [EventDraft]) -> EventCursor {
        // The events the ring drops are freed after the lock is let go (each is a few objects).
        var evicted: [PublishedEvent] = []
        let head = state.withLock { state in
            let heldDrafts = takeHeld()
            return publishLocked(heldDrafts.isEmpty ? drafts : heldDrafts + drafts, in: &state, evicted: &evicted)
        }
        evicted.removeAll()
        return head
    }

    /// Keeps ephemeral `drafts` (no audit seq) to go out in front of the next publish's, under one lock and
    /// in one delivery to each reader: a feed that is about to publish more calls this, then
    /// ``publishHeld()`` once that publish is done (it may have had nothing to publish).
    public func hold(_ drafts: [EventDraft]) {
        guard !drafts.isEmpty else { return }
        held.withLock { $0.append(contentsOf: drafts) }
    }

    /// Publishes the held drafts that no publish took yet, if any.
    public func publishHeld() {
        guard !held.withLock({ $0.isEmpty }) else { return }
        var evicted: [PublishedEvent] = []
        state.withLock { state in
            let heldDrafts = takeHeld()
            guard !heldDrafts.isEmpty else { return }
            publishLocked(heldDrafts, in: &state, evicted: &evicted)
        }
        evicted.removeAll()
    }

    /// The held drafts, now no longer held; called under `state`'s lock.
    private func takeHeld() -> [EventDraft] {
        held.withLock { held in
            guard !held.isEmpty else { return [] }
            defer { held.removeAll() }
            return held
        }
    }

    /// ``publish(_:)``'s work, under `state`'s lock; the events the ring dropped go to `evicted`.
    @discardableResult
    private func publishLocked(_ drafts: [EventDraft], in state: inout State, evicted: inout [PublishedEvent]) -> EventCursor {
        var events: [PublishedEvent] = []
        events.reserveCapacity(drafts.count)
        for (index, draft) in drafts.enumerated() {
            var auditSeq = state.head.auditSeq
            if let seq = draft.auditSeq {
                let rowGoesOn = index + 1 < drafts.count && drafts[index + 1].auditSeq == seq
                auditSeq = max(auditSeq, rowGoesOn ? seq - 1 : seq)
            }
            let cursor = EventCursor(auditSeq: auditSeq, number: state.head.number + 1, boot: boot)
            let event = PublishedEvent(draft: draft, cursor: cursor)
            state.head = cursor
            state.ring.append(event, evicted: &evicted)
            events.append(event)
        }
        let head = state.head
        publishedHead.withLock { $0 = head }
        // Each reader gets the batch's frames for it in one send: one wake of its connection per batch.
        // The frames are worked out once per kind of reader and shared by its streams.
        var batches = [SharedBatch?](repeating: nil, count: state.kinds.count)
        for (subscription, kind) in state.subscriptions {
            if subscription.isEnded { continue }
            let batch = batches[kind] ?? SharedBatch(reader: subscription.reader, events: events)
            batches[kind] = batch
            subscription.deliver(batch)
        }
        state.removeEnded()
        return state.head
    }

    /// Opens a stream for `reader` into `sink`: live from now without `cursor`; with one, resumed after it
    /// (the replay is written into the sink before this returns; live events queue behind it). Blocks on
    /// the audit source. Throws ``EventStreamError``.
    public func subscribe(_ reader: EventReader, sink: any EventSink, after cursor: EventCursor?) throws(EventStreamError) -> EventSubscription {
        guard let cursor else {
            return state.withLock { state in
                let subscription = EventSubscription(reader: reader, sink: sink, start: state.head,
                                                     skipAuditThrough: state.head.auditSeq, replaying: false, pendingLimit: pendingLimit)
                state.add(subscription)
                return subscription
            }
        }
        let auditHead: Int64
        do { auditHead = try audit.head() } catch { throw .auditUnavailable("\(error)") }
        guard cursor.auditSeq <= auditHead else { throw .invalidCursor("the cursor is ahead of the audit history") }
        let (subscription, plan) = try register(reader, sink: sink, after: cursor)
        do {
            try replay(plan, to: subscription, from: cursor)
        } catch {
            // The stream is not opened: the hub forgets it at its next publish.
            subscription.cancel()
            throw error
        }
        subscription.goLive()
        return subscription
    }

    /// How a resumed reader is brought up to date.
    private enum Plan {
        /// Audit rows up to `auditThrough`, then the ring's `events` (`head`: where a reset would resume).
        case ring(auditThrough: Int64, events: [PublishedEvent], head: EventCursor)
        /// Audit rows up to `auditThrough`, then `reset` with the cursor `head` and `reason`.
        case reset(auditThrough: Int64, head: EventCursor, reason: String)
    }

    private func register(_ reader: EventReader, sink: any EventSink,
                          after cursor: EventCursor) throws(EventStreamError) -> (EventSubscription, Plan) {
        let result: Result<(EventSubscription, Plan), EventStreamError> = state.withLock { state in
            let head = state.head
            let plan: Plan
            if cursor.boot == boot {
                guard cursor.number <= head.number else { return .failure(.invalidCursor("the cursor is ahead of the stream")) }
                if let auditAt = Self.auditSeq(at: cursor.number, head: head, ring: state.ring) {
                    plan = .ring(auditThrough: auditAt, events: state.ring.events(after: cursor.number), head: head)
                } else {
                    plan = .reset(auditThrough: head.auditSeq, head: head, reason: "expired")
                }
            } else {
                plan = .reset(auditThrough: head.auditSeq, head: head, reason: "restarted")
            }
            let subscription = EventSubscription(reader: reader, sink: sink, start: cursor, skipAuditThrough: cursor.auditSeq,
                                                 replaying: true, pendingLimit: pendingLimit)
            state.add(subscription)
            return .success((subscription, plan))
        }
        return try result.get()
    }

    /// The audit seq of event `number` when the ring still holds every event after it; `nil` otherwise.
    private static func auditSeq(at number: UInt64, head: EventCursor, ring: EventRing) -> Int64? {
        if number == head.number { return head.auditSeq }
        guard let oldest = ring.oldestNumber, oldest <= number + 1 else { return nil }
        if let event = ring.event(numbered: number) { return event.cursor.auditSeq }
        if let evicted = ring.lastEvicted, evicted.number == number { return evicted.auditSeq }
        return nil
    }

    private func replay(_ plan: Plan, to subscription: EventSubscription, from cursor: EventCursor) throws(EventStreamError) {
        switch plan {
        case .ring(let through, let events, let head):
            switch try replayAudit(after: cursor.auditSeq, through: through, to: subscription, cursor: cursor) {
            case .ended: return
            case .archived: return sendReset(head: head, reason: "archived", after: cursor, to: subscription)
            case .complete: for event in events where !subscription.replay(event, skippingAudited: true) { return }
            }
        case .reset(let through, let head, let reason):
            switch try replayAudit(after: cursor.auditSeq, through: through, to: subscription, cursor: cursor) {
            case .ended: return
            case .archived: sendReset(head: head, reason: "archived", after: cursor, to: subscription)
            case .complete: sendReset(head: head, reason: reason, after: cursor, to: subscription)
            }
        }
    }

    /// Tells the reader to list again, with the cursor to go on from.
    private func sendReset(head: EventCursor, reason: String, after cursor: EventCursor, to subscription: EventSubscription) {
        // A cursor read from the database may be ahead of what was published: the reset keeps its seq.
        var resume = head
        resume.auditSeq = max(head.auditSeq, cursor.auditSeq)
        subscription.control(EventFrame.reset(reason: reason, cursor: resume), cursor: resume)
    }

    /// How an audit replay ended.
    private enum AuditReplay {
        /// Every row was sent.
        case complete
        /// The stream ended (the reader fell behind or left).
        case ended
        /// Rows after the cursor are no longer in the database (archived): the reader must list again.
        case archived
    }

    /// Writes audit rows `(after, through]` as events whose cursors keep the reader's number and boot, so
    /// a reader cut off during the replay resumes it. Rows missing from the database (archived, the seqs
    /// having no gaps otherwise) are never skipped in silence: the replay stops with `.archived`.
    private func replayAudit(after: Int64, through: Int64, to subscription: EventSubscription,
                             cursor: EventCursor) throws(EventStreamError) -> AuditReplay {
        var position = after
        while position < through {
            let rows: [AuditEventSource.Row]
            do { rows = try audit.rows(position, through, Self.replayPage) } catch { throw .auditUnavailable("\(error)") }
            guard let first = rows.first, let last = rows.last, first.seq == position + 1 else { return .archived }
            for row in rows {
                for (index, draft) in row.events.enumerated() {
                    let seq = index + 1 < row.events.count ? row.seq - 1 : row.seq
                    let event = PublishedEvent(draft: draft, cursor: EventCursor(auditSeq: seq, number: cursor.number, boot: cursor.boot))
                    if !subscription.replay(event, skippingAudited: false) { return .ended }
                }
            }
            position = last.seq
        }
        return .complete
    }
}
