/// Who reads a stream (its scope) and what it asked for (its filters).
public struct EventReader: Sendable, Hashable {
    /// The only tenant whose assignments and operations it sees (operators); `nil` for all.
    public var tenant: String?
    /// Whether it may read the audit history (`audit.appended`).
    public var seesAudit: Bool
    /// The types it asked for; `nil` for all.
    public var types: Set<String>?
    /// Only events about this device.
    public var device: String?
    /// Only events about this group.
    public var group: Int?
    /// Only events about this assignment.
    public var assignment: String?

    /// Makes a reader.
    public init(tenant: String?, seesAudit: Bool, types: Set<String>? = nil, device: String? = nil, group: Int? = nil,
                assignment: String? = nil) {
        self.tenant = tenant
        self.seesAudit = seesAudit
        self.types = types
        self.device = device
        self.group = group
        self.assignment = assignment
    }

    /// The frame of `event` this reader gets, or `nil` when the event is not for it (scope or filters).
    func frame(of event: PublishedEvent) -> [UInt8]? {
        // The cheap filters first: most events are not for a reader that follows one group or device.
        if let group, event.draft.keys.group != group { return nil }
        if let device, !event.draft.keys.devices.contains(device) { return nil }
        if let types, !types.contains(event.draft.type) { return nil }
        var assignmentKey = event.draft.keys.assignment
        var frame = event.frame
        switch event.draft.audience {
        case .auditors:
            guard seesAudit else { return nil }
        case .tenant(let owner):
            if let tenant, owner != tenant { return nil }
        case .everyone(let assigned, let owner, _):
            if let tenant, assigned != nil, owner != tenant {
                assignmentKey = nil
                frame = event.redactedFrame ?? frame
            }
        }
        if let assignment, assignmentKey != assignment { return nil }
        return frame
    }
}
