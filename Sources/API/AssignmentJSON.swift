import Foundation
import Inventory
import Assignments
import Store

/// The JSON shapes of assignments, operations and audit records (`openapi/openapi.yaml`).
enum AssignmentJSON {
    static func assignment(_ assignment: Assignment) -> [UInt8] {
        var json = JSONWriter(capacity: 768)
        write(assignment, to: &json)
        return json.bytes
    }

    static func write(_ a: Assignment, to json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.string(a.id)
        json.key("group"); json.int(a.groupID)
        json.objects("devices", a.devices) { json, device in
            json.key("address"); json.string(device.address)
            json.key("originalDriver"); json.string(device.originalDriver)
            json.key("isBridge"); json.bool(device.isBridge)
        }
        json.key("holder")
        json.beginObject()
        json.key("id"); json.string(a.holder.id)
        json.key("tenant"); json.string(a.holder.tenant)
        json.key("uid"); json.int(a.holder.uid.map(Int64.init))
        json.endObject()
        json.key("state"); json.string(a.state.rawValue)
        json.key("ttlSeconds"); json.int(a.ttlSeconds)
        json.key("expiresAt"); json.string(Timestamp.format(a.expiresAt))
        json.key("resetOnRelease"); json.bool(a.resetOnRelease)
        json.key("generation"); json.int(a.generation)
        json.key("createdAt"); json.string(Timestamp.format(a.createdAt))
        json.key("updatedAt"); json.string(Timestamp.format(a.updatedAt))
        json.key("createdBy"); json.string(a.createdBy)
        json.key("failure"); json.string(a.failure)
        json.key("releaseReason"); json.string(a.releaseReason)
        json.key("devicePaths"); json.strings(a.devicePaths)
        json.key("callbackUrl"); json.string(a.release.callbackURL)
        json.key("releaseGraceSeconds"); json.int(a.release.graceSeconds)
        json.key("releaseTimeoutSeconds"); json.int(a.release.timeoutSeconds)
        json.key("escalation"); json.string(a.release.escalation.rawValue)
        json.endObject()
    }

    static func list(_ assignments: [Assignment], nextPageToken: String?) -> [UInt8] {
        ListBody.make(items: assignments.map(assignment), nextPageToken: nextPageToken)
    }

    static func operation(_ op: GroupOperation) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("id"); json.string(op.id)
        json.key("kind"); json.string(op.kind.rawValue)
        json.key("assignment"); json.string(op.assignmentID)
        json.key("group"); json.int(op.groupID)
        json.key("state"); json.string(op.state.rawValue)
        json.key("reason"); json.string(op.reason)
        json.key("createdAt"); json.string(Timestamp.format(op.createdAt))
        json.key("startedAt"); json.string(op.startedAt.map(Timestamp.format))
        json.key("finishedAt"); json.string(op.finishedAt.map(Timestamp.format))
        json.key("error"); json.string(op.error)
        json.key("pausedReason"); json.string(op.pausedReason)
        json.key("requestId"); json.string(op.requestID)
        json.key("actor"); json.string(op.actor)
        json.objects("steps", op.steps) { json, step in
            json.key("seq"); json.int(step.seq)
            json.key("action"); json.string(step.action)
            json.key("device"); json.string(step.device)
            json.key("originalDriver"); json.string(step.originalDriver)
            json.key("expected"); json.string(step.expected)
            json.key("state"); json.string(step.state.rawValue)
            json.key("startedAt"); json.string(Timestamp.format(step.startedAt))
            json.key("finishedAt"); json.string(step.finishedAt.map(Timestamp.format))
            json.key("durationMs")
            if let finished = step.finishedAt {
                json.double((finished.timeIntervalSince(step.startedAt) * 1e6).rounded() / 1e3)
            } else {
                json.null()
            }
            json.key("error"); json.string(step.error)
        }
        json.key("target"); json.string(op.target)
        writeDetail(op.detail, to: &json)
        json.endObject()
        return json.bytes
    }

    /// Openers, relayed requests, escalation and the reset's path, flattened into the operation.
    private static func writeDetail(_ detail: OperationDetail, to json: inout JSONWriter) {
        json.objects("openers", detail.openers) { json, opener in
            json.key("pid"); json.int(opener.pid)
            json.key("commandLine"); json.string(opener.commandLine)
            json.key("paths"); json.strings(opener.paths)
            json.key("since"); json.string(Timestamp.format(opener.since))
            json.key("goneAt"); json.string(opener.goneAt.map(Timestamp.format))
        }
        json.objects("requestsRelayed", detail.requestsRelayed) { json, request in
            json.key("sequence"); json.int(request.sequence)
            json.key("text"); json.string(request.text)
        }
        let count = detail.requestCount
        json.key("requestsRelayedCount"); json.int(count?.total ?? 0)
        json.key("requestsRelayedLogged"); json.int(count?.logged ?? 0)
        json.key("requestsRelayedSource")
        json.string(count.map { $0.total > $0.logged ? "inferred" : "kernel-log" })
        json.key("escalation")
        if let escalation = detail.escalation {
            json.beginObject()
            json.key("policy"); json.string(escalation.policy)
            json.key("signal"); json.string(escalation.signal)
            json.key("pids"); json.beginArray(); for pid in escalation.pids { json.int(pid) }; json.endArray()
            json.key("at"); json.string(Timestamp.format(escalation.at))
            json.endObject()
        } else {
            json.null()
        }
        json.key("stuck"); json.bool(detail.isStuck)
        json.key("stuckSince"); json.string(detail.stuckSince.map(Timestamp.format))
        json.key("callback"); json.string(detail.callback)
        json.key("reset")
        if let method = detail.resetMethod {
            json.beginObject()
            json.key("method"); json.string(method)
            json.key("path"); json.string(detail.resetPath)
            json.key("kernelScope"); json.strings(detail.kernelScope ?? [])
            json.endObject()
        } else {
            json.null()
        }
    }

    static func audit(_ record: AuditRecord) -> [UInt8] {
        let entry = record.entry
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.key("seq"); json.int(record.seq)
        json.key("time"); json.string(Timestamp.format(entry.time))
        json.key("actor"); json.string(entry.actor)
        json.key("requestId"); json.string(entry.requestID)
        json.key("action"); json.string(entry.action)
        json.key("device"); json.string(entry.device)
        json.key("group"); json.int(entry.group)
        json.key("assignment"); json.string(entry.assignment)
        json.key("holder"); json.string(entry.holder)
        json.key("tenant"); json.string(entry.tenant)
        json.key("before"); stringMap(entry.before, &json)
        json.key("after"); stringMap(entry.after, &json)
        json.key("detail"); json.string(entry.detail)
        json.key("error"); json.string(entry.error)
        json.key("prevHash"); json.string(record.prevHash)
        json.key("hash"); json.string(record.hash)
        json.endObject()
        return json.bytes
    }

    private static func stringMap(_ map: [String: String]?, _ json: inout JSONWriter) {
        guard let map else { json.null(); return }
        json.beginObject()
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(key)
            json.string(value)
        }
        json.endObject()
    }
}
