import Synchronization
/// What an event is about, for the `device`, `group` and `assignment` filters.
public struct EventKeys: Sendable, Hashable {
    /// The PCI addresses concerned.
    public var devices: [String]
    /// The IOMMU group concerned.
    public var group: Int?
    /// The assignment concerned.
    public var assignment: String?

    /// Makes the keys; leave out what does not apply.
    public init(devices: [String] = [], group: Int? = nil, assignment: String? = nil) {
        self.devices = devices
        self.group = group
        self.assignment = assignment
    }
}

/// Who may receive an event.
public enum EventAudience: Sendable, Hashable {
    /// Every reader. When the event names an assignment (`assignment` set), a reader scoped to a tenant
    /// other than `owner` gets `redacted` instead of the data, and the event's assignment key is hidden
    /// from its filters. `owner` `nil`: an assignment no tenant can be told about (every scoped reader
    /// gets `redacted`).
    case everyone(assignment: String?, owner: String?, redacted: [UInt8]?)
    /// Readers without a tenant, and readers of this tenant (`nil`: readers without a tenant only).
    case tenant(String?)
    /// Readers allowed to read the audit history.
    case auditors
}

/// An event as a feed hands it to the hub: type, data (one line of JSON), keys and audience.
public struct EventDraft: Sendable {
    /// The type: `device.changed`, `assignment.changed`, … (``EventTypes``).
    public var type: String
    /// What the event is about.
    public var keys: EventKeys
    /// Who may receive it.
    public var audience: EventAudience
    /// The audit row it derives from: durable events only; `nil` for ephemeral ones.
    public var auditSeq: Int64?
    private var payload: EventData

    /// The data: one line of JSON (no newline), encoded on first use for a draft made with `encode`.
    public var data: [UInt8] {
        get { payload.bytes }
        set { payload = EventData(newValue) }
    }

    /// About how many bytes the data takes: exact once encoded, the feed's estimate before.
    public var dataSize: Int { payload.size }

    /// Makes a draft.
    public init(type: String, data: [UInt8], keys: EventKeys = EventKeys(), audience: EventAudience,
                auditSeq: Int64? = nil) {
        self.init(type: type, payload: EventData(data), keys: keys, audience: audience, auditSeq: auditSeq)
    }

    /// Makes a draft whose data `encode` writes only when a reader first needs it (most events published
    /// while nobody streams are never read); `estimatedSize` stands for its length until then, in the ring's
    /// accounting. `encode` must give the same bytes whenever it runs.
    public init(type: String, estimatedSize: Int, keys: EventKeys = EventKeys(), audience: EventAudience,
                auditSeq: Int64? = nil, encode: @escaping @Sendable () -> [UInt8]) {
        self.init(type: type, payload: EventData(estimatedSize: estimatedSize, encode: encode), keys: keys,
                  audience: audience, auditSeq: auditSeq)
    }

    private init(type: String, payload: EventData, keys: EventKeys, audience: EventAudience, auditSeq: Int64?) {
        self.type = type
        self.payload = payload
        self.keys = keys
        self.audience = audience
        self.auditSeq = auditSeq
    }
}

/// An event's data: bytes, or the means to write them once, on first use. A class, so that every copy of
/// a draft shares one encoding.
final class EventData: Sendable {
    private let encoded: MadeOnce<[UInt8]>
    /// Writes the bytes; `nil` when they were given.
    private let encode: (@Sendable () -> [UInt8])?
    private let estimatedSize: Int

    init(_ bytes: [UInt8]) {
        encoded = MadeOnce(value: bytes)
        encode = nil
        estimatedSize = bytes.count
    }

    init(estimatedSize: Int, encode: @escaping @Sendable () -> [UInt8]) {
        encoded = MadeOnce()
        self.encode = encode
        self.estimatedSize = max(0, estimatedSize)
    }

    var bytes: [UInt8] { encoded.value { encode?() ?? [] } }

    var size: Int { encoded.valueIfMade?.count ?? estimatedSize }
}

/// An event with its cursor and its SSE frames, encoded once for every reader (when the first one asks).
/// A class: handing it to each of many readers costs one reference count, not one per field.
public final class PublishedEvent: Sendable {
    /// The draft it was published from.
    public let draft: EventDraft
    /// Its cursor.
    public let cursor: EventCursor
    /// The bytes it takes in memory, roughly (the ring's accounting): both frames counted at the length
    /// they are encoded at, whether or not a reader asked for them yet.
    let size: Int
    /// The frames, encoded when a reader first asks (delivered live or replayed from the ring): a publish
    /// no stream reads encodes none.
    private let frames = MadeOnce<Frames>()

    private struct Frames {
        let frame: [UInt8]
        let redacted: [UInt8]?
    }

    init(draft: EventDraft, cursor: EventCursor) {
        self.draft = draft
        self.cursor = cursor
        let overhead = draft.type.utf8.count + 64
        size = draft.dataSize + overhead + (Self.redactedData(draft).map { $0.count + overhead } ?? 0)
            + draft.dataSize + 128
    }

    /// The frame every reader allowed the data gets.
    var frame: [UInt8] { frames.value(encodeFrames).frame }

    /// The frame a reader of another tenant gets (`EventAudience.everyone` with an assignment).
    var redactedFrame: [UInt8]? { frames.value(encodeFrames).redacted }

    private func encodeFrames() -> Frames {
        Frames(frame: EventFrame.event(cursor: cursor, type: draft.type, data: draft.data),
               redacted: Self.redactedData(draft).map { EventFrame.event(cursor: cursor, type: draft.type, data: $0) })
    }

    private static func redactedData(_ draft: EventDraft) -> [UInt8]? {
        if case .everyone(let assignment, _, let redacted) = draft.audience, assignment != nil { return redacted }
        return nil
    }
}
