import EventStream
import Foundation
import Synchronization

/// A sink that keeps what it was sent, up to a capacity, and parses it back into frames.
final class TestSink: EventSink {
    private let capacity: Int
    private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))
    private let sendCount = Mutex(0)

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
    }

    func send(_ bytes: [UInt8]) -> EventSinkResult {
        sendCount.withLock { $0 += 1 }
        return state.withLock { state in
            if state.finished { return .ended }
            if state.bytes.count + bytes.count > capacity { return .full }
            state.bytes += bytes
            return .queued
        }
    }

    func finish(with bytes: [UInt8]?) {
        state.withLock { state in
            state.bytes += bytes ?? []
            state.finished = true
        }
    }

    /// How many times `send` was called (queued or not).
    var sends: Int { sendCount.withLock { $0 } }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Every frame received: (id, event, data).
    var frames: [(id: String?, type: String, data: String)] {
        let text = String(decoding: state.withLock { $0.bytes }, as: UTF8.self)
        return text.components(separatedBy: "\n\n").compactMap { block in
            var id: String?
            var type: String?
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return type.map { (id, $0, data) }
        }
    }

    /// The data of the frames of ordinary events (not control events).
    var payloads: [String] { frames.filter { !["reset", "overflow", "shutdown"].contains($0.type) }.map(\.data) }
}

/// An in-memory audit history: rows of events, numbered from 1.
final class TestAudit: Sendable {
    private let rows = Mutex<[AuditEventSource.Row]>([])

    /// Appends a row with one assignment event and one audit event; returns its seq.
    @discardableResult
    func append(tenant: String = "a", assignment: String = "asg_1") -> (Int64, [EventDraft]) {
        rows.withLock { rows in
            let seq = Int64(rows.count + 1)
            let drafts = [
                EventDraft(type: "audit.appended", data: Array("\"audit \(seq)\"".utf8), keys: EventKeys(assignment: assignment),
                           audience: .auditors, auditSeq: seq),
                EventDraft(type: "assignment.changed", data: Array("\"row \(seq)\"".utf8), keys: EventKeys(assignment: assignment),
                           audience: .tenant(tenant), auditSeq: seq),
            ]
            rows.append((seq, drafts))
            return (seq, drafts)
        }
    }

    var source: AuditEventSource {
        AuditEventSource(head: { [self] in Int64(rows.withLock { $0.count }) }) { [self] after, through, limit in
            rows.withLock { rows in Array(rows.filter { $0.seq > after && $0.seq <= through }.prefix(limit)) }
        }
    }
}

func ephemeral(_ name: String, device: String = "0000:01:00.0") -> EventDraft {
    EventDraft(type: "device.changed", data: Array("\"\(name)\"".utf8), keys: EventKeys(devices: [device]),
               audience: .everyone(assignment: nil, owner: nil, redacted: nil))
}

let admin = EventReader(tenant: nil, seesAudit: true)
