import Synchronization

/// One reader's stream: its scope and filters, where its bytes go, and the events it waits for while it
/// is replayed to.
///
/// Live events are written straight into the sink; while the reader is replayed to (``EventHub``'s
/// resume), they queue behind the replay, bounded like the sink. A sink that is full ends the stream with
/// `overflow` and the last cursor sent: the hub never waits for a reader.
public final class EventSubscription: Sendable {
    /// The reader's scope and filters.
    public let reader: EventReader
    let sink: any EventSink
    /// The most bytes queued behind a replay.
    let pendingLimit: Int
    private let state: Mutex<State>
    private let endedFlag = Atomic<Bool>(false)

    private struct State {
        /// Events with an audit seq at or below this were seen by the reader already (its cursor's A).
        var skipAuditThrough: Int64
        /// Whether live events queue behind a replay.
        var replaying: Bool
        var pending: [(frame: [UInt8], cursor: EventCursor)] = []
        var pendingBytes = 0
        /// The cursor of the last event sent.
        var last: EventCursor
    }

    init(reader: EventReader, sink: any EventSink, start: EventCursor, skipAuditThrough: Int64, replaying: Bool,
         pendingLimit: Int) {
        self.reader = reader
        self.sink = sink
        self.pendingLimit = pendingLimit
        state = Mutex(State(skipAuditThrough: skipAuditThrough, replaying: replaying, last: start))
    }

    /// Whether the stream ended (overflow, the reader left, ``cancel()``).
    public var isEnded: Bool { endedFlag.load(ordering: .acquiring) }

    /// The cursor of the last event sent to the reader.
    public var lastCursor: EventCursor { state.withLock { $0.last } }

    /// Marks the stream ended: the hub forgets it at its next publish. Call from the sink's end handler;
    /// takes no lock, so it may run inside a `send`.
    public func cancel() {
        endedFlag.store(true, ordering: .releasing)
    }

    /// Hands one publish's events for this kind of reader (in order) to it: in one send, sharing the
    /// batch's bytes with every stream of its kind, so its connection is woken once per batch. While the
    /// reader is replayed to, or when they do not fit together, or when some were seen already (a cursor
    /// read from the database may be ahead of the tail), they go one by one (the stream overflows exactly
    /// where it would have). Returns whether the stream goes on.
    @discardableResult
    func deliver(_ batch: SharedBatch) -> Bool {
        if isEnded { return false }
        guard let last = batch.frames.last else { return true }
        return state.withLock { state in
            if !state.replaying && batch.lowestAuditSeq > state.skipAuditThrough {
                switch sink.send(batch.bytes) {
                case .queued:
                    state.last = last.event.cursor
                    return true
                case .ended:
                    cancel()
                    return false
                case .full:
                    break
                }
            }
            for (event, frame) in batch.frames where !isEnded {
                if let seq = event.draft.auditSeq, seq <= state.skipAuditThrough { continue }
                guard state.replaying else {
                    if !write(frame, event.cursor, &state) { return false }
                    continue
                }
                state.pending.append((frame, event.cursor))
                state.pendingBytes += frame.count
                if state.pendingBytes > pendingLimit { return overflow(&state) }
            }
            return !isEnded
        }
    }

    /// Writes a replayed event (no queueing, no skipping by audit seq). Returns whether the stream goes on.
    @discardableResult
    func replay(_ event: PublishedEvent, skippingAudited: Bool) -> Bool {
        if isEnded { return false }
        guard let frame = reader.frame(of: event) else { return true }
        return state.withLock { state in
            if skippingAudited, let seq = event.draft.auditSeq, seq <= state.skipAuditThrough { return true }
            return write(frame, event.cursor, &state)
        }
    }

    /// Writes a control frame (`reset`) carrying `cursor`. Returns whether the stream goes on.
    @discardableResult
    func control(_ frame: [UInt8], cursor: EventCursor) -> Bool {
        if isEnded { return false }
        return state.withLock { write(frame, cursor, &$0) }
    }

    /// Ends the replay: the queued live events follow it, then events go straight to the sink.
    func goLive() {
        state.withLock { state in
            for (frame, cursor) in state.pending where !isEnded {
                if !write(frame, cursor, &state) { break }
            }
            state.pending = []
            state.pendingBytes = 0
            state.replaying = false
        }
    }

    private func write(_ frame: [UInt8], _ cursor: EventCursor, _ state: inout State) -> Bool {
        switch sink.send(frame) {
        case .queued:
            state.last = cursor
            return true
        case .full:
            return overflow(&state)
        case .ended:
            cancel()
            return false
        }
    }

    private func overflow(_ state: inout State) -> Bool {
        cancel()
        state.pending = []
        state.pendingBytes = 0
        sink.finish(with: EventFrame.overflow(cursor: state.last))
        return false
    }
}
