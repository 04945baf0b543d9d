import Foundation
import HTTPServer
import Assignments
import Store

/// Lease failures as problems: one function maps every domain error to its status and code.
extension APIError {
    static func of(_ error: AssignmentError) -> APIError {
        switch error {
        case .unknownDevice(let address):
            return APIError(404, "device_not_found", "Device not found", "this host has no PCI device \(address)")
        case .unknownGroup(let id):
            return .groupNotFound(id)
        case .notAssignable(let group, let blockers):
            return APIError(409, "group_not_assignable", "Group cannot be lent",
                            "IOMMU group \(group) is lent whole, and not every member is available: " + blockers.joined(separator: "; "),
                            extensions: [("blockers", .rawJSON(JSONWriter.stringArray(blockers)))])
        case .groupAssigned(let group, let id?):
            return APIError(409, "group_assigned", "Group already assigned",
                            "IOMMU group \(group) is held by assignment \(id)",
                            extensions: [("assignmentId", .string(id))])
        case .groupAssigned(let group, nil):
            return APIError(409, "group_assigned", "Group already assigned",
                            "IOMMU group \(group) is held by another tenant's assignment")
        case .notFound(let id):
            return APIError(404, "assignment_not_found", "Not found", "no assignment or operation \(id.prefix(64)) is visible to this token")
        case .staleGeneration(let current, let sent):
            let relation = sent < current ? "an older generation" : "a generation it has not reached"
            return APIError(412, "precondition_failed", "Precondition failed",
                            "the assignment is at generation \(current); If-Match named \(sent), \(relation)",
                            headers: [("ETag", AssignmentETag.of(generation: current))])
        case .wrongState(let id, let state):
            return APIError(409, "invalid_state", "Not allowed in this state", "assignment \(id) is \(state.rawValue)")
        case .busy:
            return APIError(503, "queue_full", "Busy", "the worker queue is full; retry later",
                            headers: [("Retry-After", "1")])
        case .tenantMismatch(let tenant):
            return APIError(403, "forbidden", "Forbidden", "this token acts for tenant \(tenant) only")
        case .resetNotPossible(let address, let blockers):
            return APIError(409, "reset_not_possible", "Reset not possible",
                            "vfiod cannot reset \(address) now: " + blockers.joined(separator: "; "),
                            extensions: [("blockers", .rawJSON(JSONWriter.stringArray(blockers)))])
        case .notQuarantined(let address):
            return APIError(404, "not_quarantined", "Not quarantined", "device \(address) is not quarantined")
        case .corruptRow(let what):
            return APIError(500, "internal_error", "Internal error", "stored \(what) could not be read")
        }
    }

    static func store(_ error: Error) -> APIError {
        if let lease = error as? AssignmentError { return .of(lease) }
        if let database = error as? DatabaseError, database.isStorageFull {
            return APIError(507, "storage_full", "Storage full",
                            "the database's file system is full: nothing was changed; reads still work; retry once space is freed",
                            headers: [("Retry-After", "30")])
        }
        if let database = error as? DatabaseError, database.isStorageFault {
            return APIError(503, "storage_unavailable", "Storage unavailable",
                            "the database cannot be written now (\(database.message)): nothing was changed; retry later",
                            headers: [("Retry-After", "5")])
        }
        return APIError(500, "internal_error", "Internal error", "the database failed: \(error)")
    }
}

/// Assignment ETags carry the generation (the fencing token): `"g7"`.
enum AssignmentETag {
    static func of(generation: Int64) -> String { "\"g\(generation)\"" }

    /// The generation an `If-Match` names, or `nil` when it names none (absent or `*`).
    static func generation(ifMatch header: String?) throws(APIError) -> Int64? {
        guard let header, header != "*" else { return nil }
        var text = header.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        guard text.hasPrefix("\"g"), text.hasSuffix("\""), let value = Int64(text.dropFirst(2).dropLast()) else {
            throw APIError(400, "invalid_header", "Invalid header", "If-Match must be an ETag this server sent, such as \"g3\"")
        }
        return value
    }
}
