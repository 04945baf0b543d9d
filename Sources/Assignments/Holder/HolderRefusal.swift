/// Why the holder socket refused a request: a stable `code` and a sentence. Sent as
/// `{"ok": false, "code": CODE, "detail": TEXT}` and audited as `holder.descriptors_refused`.
public struct HolderRefusal: Error, Sendable, Hashable {
    /// The stable code.
    public let code: String
    /// What happened, for a person.
    public let detail: String

    init(_ code: String, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    static func badRequest(_ detail: String) -> HolderRefusal { HolderRefusal("bad_request", detail) }
    static let lineTooLong = HolderRefusal("request_too_large", "the request line is longer than 4096 bytes")
    static let silent = HolderRefusal("request_timeout", "no whole request line within the deadline")
    static let tooManyConnections = HolderRefusal("too_many_connections", "too many connections are being read; try again")
    static func notFound(_ id: String) -> HolderRefusal { HolderRefusal("assignment_not_found", "no assignment \(id.prefix(64))") }
    static func notHolder(_ uid: UInt32, _ assignment: Assignment) -> HolderRefusal {
        let allowed = assignment.holder.uid.map { "uid \($0) or root" } ?? "root (the assignment names no holder uid)"
        return HolderRefusal("peer_not_holder", "uid \(uid) may not fetch assignment \(assignment.id)'s descriptors; only \(allowed) may")
    }
    static func notActive(_ assignment: Assignment) -> HolderRefusal {
        HolderRefusal("assignment_not_active", "assignment \(assignment.id) is \(assignment.state.rawValue), not active")
    }
    static func releasing(_ assignment: Assignment) -> HolderRefusal {
        HolderRefusal("assignment_releasing", "assignment \(assignment.id) is being released")
    }
    static func expired(_ assignment: Assignment) -> HolderRefusal {
        HolderRefusal("assignment_expired", "assignment \(assignment.id)'s lease has expired")
    }
    static func staleGeneration(_ asked: Int64, _ assignment: Assignment) -> HolderRefusal {
        HolderRefusal("stale_generation", "generation \(asked) is not assignment \(assignment.id)'s current \(assignment.generation)")
    }
    static func openFailed(_ error: Error) -> HolderRefusal { HolderRefusal("open_failed", "vfiod could not open the files: \(error)") }
    static let storageUnavailable = HolderRefusal("storage_unavailable", "the fetch could not be audited, so nothing is given; try again")

    /// Every code, for documentation and tests.
    public static let codes = ["bad_request", "request_too_large", "request_timeout", "too_many_connections", "assignment_not_found",
                               "peer_not_holder", "assignment_not_active", "assignment_releasing", "assignment_expired",
                               "stale_generation", "open_failed", "storage_unavailable"]
}
