import Foundation
import HTTPServer
import Store
import VFIOCore

extension RouteTable {
    mutating func addAuditRoutes() {
        route("GET", "/v1/audit", .audit) { [context] request, _ throws(APIError) in
            let query = try QueryParameters(request.query, allowed: AuditFilter.parameters + ["pageSize", "pageToken"])
            var audit = try AuditFilter.query(query)
            let size = try Paging.size(query["pageSize"])
            let key = AuditFilter.key(query)
            if let text = query["pageToken"] {
                let token = try PageToken(decoding: text, kind: "audit", filterKey: key)
                guard let seq = Int64(token.lastKey) else { throw .invalidPageToken("the page token is damaged") }
                audit.afterSeq = seq
            }
            audit.limit = size + 1
            let frozen = audit
            let records = try await context.storeCall { try AuditLog.list(frozen, in: $0) }
            let items = Array(records.prefix(size))
            let next = records.count > size ? items.last.map { PageToken(kind: "audit", lastKey: "\($0.seq)", filterKey: key).encoded } : nil
            return .json(ListBody.make(items: items.map(AssignmentJSON.audit), nextPageToken: next))
        }
        route("GET", "/v1/audit/verify", .audit) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let result = try await context.storeCall { try AuditLog.verify($0) }
            var json = JSONWriter()
            json.beginObject()
            json.key("ok"); json.bool(result.ok)
            json.key("count"); json.int(result.count)
            json.key("headHash"); json.string(result.headHash)
            json.key("firstBrokenSeq"); json.int(result.firstBrokenSeq)
            json.key("reason"); json.string(result.reason?.description)
            json.key("checkpointSeq"); json.int(result.checkpointSeq)
            json.key("checkpointHash"); json.string(result.checkpointHash)
            json.endObject()
            return .json(json.bytes)
        }
        route("GET", "/v1/audit/export", .audit) { [context] request, _ throws(APIError) in
            let query = try QueryParameters(request.query, allowed: AuditFilter.parameters + ["format"])
            let audit = try AuditFilter.query(query)
            let format: AuditExportFormat
            switch query["format"] ?? "jsonl" {
            case "jsonl": format = .jsonLines
            case "csv": format = .csv
            default: throw .invalidParameter("format", "must be jsonl or csv")
            }
            let bytes = try await context.storeCall { database -> [UInt8] in
                var out: [UInt8] = []
                try AuditLog.export(audit, format: format, in: database) { out.append(contentsOf: $0) }
                return out
            }
            let type = format == .csv ? "text/csv; charset=utf-8" : "application/jsonl"
            return HTTPResponse(status: 200, headers: [("Content-Type", type)], body: bytes)
        }
    }
}

extension APIContext {
    /// Runs a store call on the store thread, mapping failures to a 500 problem.
    func storeCall<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(APIError) -> T {
        do { return try await assignments.store(body) } catch { throw .store(error) }
    }
}

/// The filters of the audit routes.
enum AuditFilter {
    static let parameters = ["device", "group", "assignment", "holder", "tenant", "action", "since", "until"]

    static func query(_ query: QueryParameters) throws(APIError) -> AuditQuery {
        var audit = AuditQuery()
        if let device = query["device"] {
            guard PCIAddress(device) != nil else { throw .invalidAddress(device) }
            audit.device = device
        }
        if let text = query["group"] {
            guard let group = Int(text), group >= 0 else { throw .invalidParameter("group", "must be a group number") }
            audit.group = group
        }
        audit.assignment = query["assignment"]
        audit.holder = query["holder"]
        audit.tenant = query["tenant"]
        audit.action = query["action"]
        audit.since = try time(query, "since")
        audit.until = try time(query, "until")
        return audit
    }

    static func key(_ query: QueryParameters) -> String {
        parameters.map { query[$0] ?? "" }.joined(separator: ",")
    }

    private static func time(_ query: QueryParameters, _ name: String) throws(APIError) -> Date? {
        guard let text = query[name] else { return nil }
        guard let date = Timestamp.parseRFC3339(text) else {
            throw .invalidParameter(name, "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z, "
                                    + "2026-01-31T12:00:00.25Z or 2026-01-31T13:00:00+01:00 (encode + as %2B)")
        }
        return date
    }
}
