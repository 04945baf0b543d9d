public import EventStream
public import Store
public import Assignments
import Foundation

/// The events of the stream, as JSON: what each audit row, finished step and inventory change becomes.
/// The app's feeds (the audit tail, the step observer) and the API's inventory publisher call these, so
/// every event's data is written in one place, against the schemas of `openapi/openapi.yaml`.
public enum EventDrafts {
    /// A row's events: `audit.appended` (auditors and admins), then `assignment.changed` for `assignment.*`
    /// rows or `operation.changed` for `operation.*` rows but `operation.step` (its tenant's readers).
    public static func audit(_ record: AuditRecord) -> [EventDraft] {
        let entry = record.entry
        let keys = EventKeys(devices: entry.device.map { [$0] } ?? [], group: entry.group, assignment: entry.assignment)
        // The data is written when a reader first asks: a row published while nobody streams costs its keys.
        let size = estimatedSize(of: record)
        var drafts = [EventDraft(type: EventTypes.auditAppended, estimatedSize: size, keys: keys, audience: .auditors,
                                 auditSeq: record.seq) { AssignmentJSON.audit(record) }]
        let after = entry.after ?? [:]
        if entry.action.hasPrefix("assignment."), let id = entry.assignment {
            drafts.append(EventDraft(type: EventTypes.assignmentChanged, estimatedSize: size / 2, keys: keys,
                                     audience: .tenant(entry.tenant), auditSeq: record.seq) { assignmentChanged(id, record) })
        } else if entry.action.hasPrefix("operation."), entry.action != "operation.step",
                  let id = after["operation"] ?? entry.detail?.split(separator: " ").last.map(String.init) {
            drafts.append(EventDraft(type: EventTypes.operationChanged, estimatedSize: size / 2, keys: keys,
                                     audience: .tenant(entry.tenant), auditSeq: record.seq) { operationChanged(id, record) })
        }
        return drafts
    }

    /// About how long `audit.appended`'s data for `record` is: its fields, the two hashes and the member
    /// names (JSON escaping, rare in these fields, may add a little).
    private static func estimatedSize(of record: AuditRecord) -> Int {
        let entry = record.entry
        let texts = [entry.actor, entry.requestID, entry.action, entry.device, entry.assignment, entry.holder,
                     entry.tenant, entry.detail, entry.error]
        var size = 330 // member names, the time, the seq, the group and the two 64-digit hashes
        for text in texts { size += text?.utf8.count ?? 0 }
        for map in [entry.before, entry.after] {
            for (key, value) in map ?? [:] { size += key.utf8.count + value.utf8.count + 6 }
        }
        return size
    }

    /// `assignment.changed`'s data: the assignment's state after an `assignment.*` row.
    private static func assignmentChanged(_ id: String, _ record: AuditRecord) -> [UInt8] {
        let (entry, after) = (record.entry, record.entry.after ?? [:])
        var json = JSONWriter()
        json.beginObject()
        json.key("id"); json.string(id)
        json.key("state"); json.string(after["state"])
        json.key("generation"); json.int(after["generation"].flatMap { Int64($0) })
        json.key("expiresAt"); json.string(after["expiresAt"])
        json.key("group"); json.int(entry.group)
        json.key("holder"); json.string(entry.holder)
        json.key("tenant"); json.string(entry.tenant)
        json.key("action"); json.string(entry.action)
        json.key("auditSeq"); json.int(record.seq)
        json.endObject()
        return json.bytes
    }

    /// `operation.changed`'s data. Rows from before `after` carried the operation name it only in `detail`
    /// (`"KIND ID"`).
    private static func operationChanged(_ id: String, _ record: AuditRecord) -> [UInt8] {
        let (entry, after) = (record.entry, record.entry.after ?? [:])
        var json = JSONWriter()
        json.beginObject()
        json.key("id"); json.string(id)
        json.key("kind"); json.string(after["kind"] ?? entry.detail?.split(separator: " ").first.map(String.init))
        json.key("state"); json.string(after["state"])
        json.key("assignmentId"); json.string(entry.assignment)
        json.key("group"); json.int(entry.group)
        json.key("error"); json.string(entry.error)
        json.key("action"); json.string(entry.action)
        json.key("auditSeq"); json.int(record.seq)
        json.endObject()
        return json.bytes
    }

    /// `operation.step` for a journaled step that finished.
    public static func step(_ step: FinishedStep) -> EventDraft {
        let keys = EventKeys(devices: step.device.map { [$0] } ?? [], group: step.groupID, assignment: step.assignmentID)
        let size = 330 + step.operationID.utf8.count + step.assignmentID.utf8.count + step.action.utf8.count
            + (step.device?.utf8.count ?? 0) + (step.error?.utf8.count ?? 0)
        return EventDraft(type: EventTypes.operationStep, estimatedSize: size, keys: keys, audience: .tenant(step.tenant)) {
            stepData(step)
        }
    }

    /// `operation.step`'s data.
    private static func stepData(_ step: FinishedStep) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("operationId"); json.string(step.operationID)
        json.key("kind"); json.string(step.kind)
        json.key("assignmentId"); json.string(step.assignmentID)
        json.key("group"); json.int(step.groupID)
        json.key("seq"); json.int(step.seq)
        json.key("action"); json.string(step.action)
        json.key("device"); json.string(step.device)
        json.key("state"); json.string(step.state)
        json.key("startedAt"); json.string(Timestamp.format(step.startedAt))
        json.key("finishedAt"); json.string(Timestamp.format(step.finishedAt))
        json.key("durationMs"); json.int(max(0, Int((step.finishedAt.timeIntervalSince(step.startedAt) * 1000).rounded())))
        json.key("error"); json.string(step.error)
        json.endObject()
        return json.bytes
    }

    /// The audit history as the hub replays it (reads on the calling thread: the store's).
    public static func auditSource(_ database: Database) -> AuditEventSource {
        AuditEventSource(head: { try AuditLog.head(in: database).seq }) { after, through, limit in
            let rows = try AuditLog.list(AuditQuery(afterSeq: after, limit: limit), in: database)
            return rows.filter { $0.seq <= through }.map { ($0.seq, audit($0)) }
        }
    }
}
