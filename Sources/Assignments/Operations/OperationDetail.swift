import Foundation

/// What an operation saw beyond its journaled steps: the openers of a release and what was done about
/// them, and how a reset went. Kept as JSON in `operations.detail`.
public struct OperationDetail: Sendable, Hashable, Codable {
    /// A process seen holding the group's VFIO files.
    public struct OpenerSeen: Sendable, Hashable, Codable {
        /// Its pid.
        public var pid: Int32
        /// Its command line.
        public var commandLine: String
        /// The VFIO files it held (`/dev/vfio/7`).
        public var paths: [String]
        /// When vfiod first saw it.
        public var since: Date
        /// When vfiod saw it gone; `nil` while it holds on.
        public var goneAt: Date?
    }

    /// A device request the kernel relayed to the opener (`/dev/kmsg`).
    public struct RelayedRequest: Sendable, Hashable, Codable {
        /// The kernel log record's sequence number.
        public var sequence: UInt64
        /// The record's text.
        public var text: String
        /// When vfiod first read it (`nil` in records saved before it was kept).
        public var seenAt: Date?
    }

    /// How many device requests the kernel made while the release's unbinds waited, all endpoints
    /// together (``DeviceRequestCount``): the kernel logs only every tenth.
    public struct RequestCount: Sendable, Hashable, Codable {
        /// At least this many: what the log proves plus what the kernel's cadence adds.
        public var total: Int
        /// What the log proves: the newest `#N` + 1 per endpoint.
        public var logged: Int
    }

    /// What escalation did.
    public struct EscalationRecord: Sendable, Hashable, Codable {
        /// `wait`, `terminate` or `kill`.
        public var policy: String
        /// `SIGTERM`, `SIGKILL`, or `nil` for `wait`.
        public var signal: String?
        /// The processes signalled.
        public var pids: [Int32]
        /// When.
        public var at: Date
    }

    /// Openers seen, in order of first sight.
    public var openers: [OpenerSeen] = []
    /// Device requests relayed by the kernel while the unbind waited.
    public var requestsRelayed: [RelayedRequest] = []
    /// How many requests those stand for; `nil` before the first was seen.
    public var requestCount: RequestCount?
    /// Escalation, once it happened.
    public var escalation: EscalationRecord?
    /// Since when the release has been stuck (timed out under `wait`); `nil` when it is not.
    public var stuckSince: Date?
    /// The callback's outcome (`204`, `failed: timed out`), when one was set.
    public var callback: String?
    /// A reset's method (`function`, `hot`).
    public var resetMethod: String?
    /// A reset's VFIO path (`group`, `cdev`).
    public var resetPath: String?
    /// The functions the kernel's hot-reset info listed.
    public var kernelScope: [String]?

    /// The last kernel log sequence per device when the release started: older relays are another
    /// release's (not shown in the API).
    public var logBaseline: [String: UInt64]?

    /// Nothing seen yet.
    public init() {}

    /// The stored JSON's keys (``encoded`` writes these).
    enum CodingKeys: String, CodingKey {
        case openers, requestsRelayed, requestCount, escalation, stuckSince, callback, resetMethod, resetPath
        case kernelScope, logBaseline
    }

    /// Keys of rows written before the processes were called openers: `holders` is read as `openers`.
    enum LegacyKeys: String, CodingKey { case holders }

    /// Reads a stored detail, old rows (`holders`) included.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        openers = try container.decodeIfPresent([OpenerSeen].self, forKey: .openers)
            ?? legacy.decodeIfPresent([OpenerSeen].self, forKey: .holders) ?? []
        requestsRelayed = try container.decodeIfPresent([RelayedRequest].self, forKey: .requestsRelayed) ?? []
        requestCount = try container.decodeIfPresent(RequestCount.self, forKey: .requestCount)
        escalation = try container.decodeIfPresent(EscalationRecord.self, forKey: .escalation)
        stuckSince = try container.decodeIfPresent(Date.self, forKey: .stuckSince)
        callback = try container.decodeIfPresent(String.self, forKey: .callback)
        resetMethod = try container.decodeIfPresent(String.self, forKey: .resetMethod)
        resetPath = try container.decodeIfPresent(String.self, forKey: .resetPath)
        kernelScope = try container.decodeIfPresent([String].self, forKey: .kernelScope)
        logBaseline = try container.decodeIfPresent([String: UInt64].self, forKey: .logBaseline)
    }

    /// The openers still holding on.
    public var presentOpeners: [OpenerSeen] { openers.filter { $0.goneAt == nil } }

    /// Whether the release is stuck now.
    public var isStuck: Bool { stuckSince != nil }

    /// The JSON stored in the database.
    var encoded: String {
        // Most operations see nothing worth keeping: skip the encoder.
        if self == OperationDetail() { return "{}" }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Reads the stored JSON; an unreadable value reads as empty.
    static func decode(_ text: String) -> OperationDetail {
        if text == "{}" { return OperationDetail() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return (try? decoder.decode(OperationDetail.self, from: Data(text.utf8))) ?? OperationDetail()
    }
}
