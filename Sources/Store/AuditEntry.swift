import Foundation

/// One event for the audit history, as a caller describes it: who did what to which device, group or
/// assignment, and the state before and after. `AuditLog.append` gives it its seq and hashes.
///
/// Only `actor` and `action` are required; leave out what does not apply. Text fields are stored as
/// given (UTF-8); `time` is stored to the millisecond (RFC 3339 UTC), truncated toward the past.
public struct AuditEntry: Sendable, Hashable {
    /// When it happened; stored to the millisecond.
    public var time: Date
    /// Who did it: the API token's name, or `"system"` for vfiod itself (recovery, lease expiry, drift).
    public var actor: String
    /// The HTTP request it was part of, when there was one.
    public var requestID: String?
    /// What happened, dotted free text: `assignment.created`, `operation.step`, `assignment.expired`, …
    public var action: String
    /// The PCI address concerned, `0000:41:00.0`.
    public var device: String?
    /// The IOMMU group concerned.
    public var group: Int?
    /// The assignment (lease) concerned.
    public var assignment: String?
    /// Who holds (or held) the device: the VM or container the assignment names.
    public var holder: String?
    /// The tenant the assignment belongs to.
    public var tenant: String?
    /// State before the change (e.g. `["driver": "nvidia"]`), stored as JSON with sorted keys.
    public var before: [String: String]?
    /// State after the change, stored as JSON with sorted keys.
    public var after: [String: String]?
    /// Free text for people reading the history.
    public var detail: String?
    /// What went wrong, when the event is a failure.
    public var error: String?

    /// Makes an entry; `time` defaults to now.
    public init(time: Date = Date(), actor: String, requestID: String? = nil, action: String,
                device: String? = nil, group: Int? = nil, assignment: String? = nil, holder: String? = nil,
                tenant: String? = nil, before: [String: String]? = nil, after: [String: String]? = nil,
                detail: String? = nil, error: String? = nil) {
        self.time = time
        self.actor = actor
        self.requestID = requestID
        self.action = action
        self.device = device
        self.group = group
        self.assignment = assignment
        self.holder = holder
        self.tenant = tenant
        self.before = before
        self.after = after
        self.detail = detail
        self.error = error
    }
}

/// One row of the audit history: an entry with its place in the chain.
public struct AuditRecord: Sendable, Hashable {
    /// Position in the history: 1, 2, 3, … with no gaps.
    public let seq: Int64
    /// What was recorded; `time` as stored (millisecond precision).
    public let entry: AuditEntry
    /// The previous row's `hash` (64 zeros for seq 1).
    public let prevHash: String
    /// Lowercase hex SHA-256 of `prevHash` followed by this row's canonical form.
    public let hash: String
}
