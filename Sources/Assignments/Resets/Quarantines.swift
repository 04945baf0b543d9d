import Foundation
import Inventory
import Store
import Synchronization
import VFIOCore

/// A device whose reset or restore failed: kept on vfio-pci, lent to nobody, until an admin clears it.
public struct QuarantineEntry: Sendable, Hashable {
    /// The function.
    public var address: String
    /// What failed.
    public var reason: String
    /// When it was quarantined.
    public var since: Date
    /// The assignment it was under.
    public var assignmentID: String?
    /// The operation that failed.
    public var operationID: String?
    /// The driver it had before the lease: where clearing the quarantine gives it back to.
    public var originalDriver: String?
}

/// Quarantined devices: rows in SQLite, mirrored in memory for the inventory's marks (changed only
/// after the database committed, like ``LiveAssignments``).
final class Quarantines: Sendable {
    private let entries = Mutex<[String: QuarantineEntry]>([:])

    func load(_ all: [QuarantineEntry]) {
        entries.withLock { entries in
            entries = Dictionary(all.map { ($0.address, $0) }, uniquingKeysWith: { _, last in last })
        }
    }

    func set(_ entry: QuarantineEntry) { entries.withLock { $0[entry.address] = entry } }
    func remove(_ address: String) { entries.withLock { $0[address] = nil } }
    func entry(_ address: String) -> QuarantineEntry? { entries.withLock { $0[address] } }

    /// Marks that override lease marks: a quarantined device is quarantined whatever holds it.
    var marks: [PCIAddress: AssignmentMark] {
        entries.withLock { entries in
            var marks: [PCIAddress: AssignmentMark] = [:]
            for entry in entries.values {
                if let address = PCIAddress(entry.address) {
                    marks[address] = AssignmentMark(assignmentID: entry.assignmentID, state: .quarantined, reason: entry.reason)
                }
            }
            return marks
        }
    }
}

/// The `quarantine` table.
enum QuarantineRecords {
    static func insert(_ entry: QuarantineEntry, in connection: Connection) throws {
        try connection.run("""
            INSERT INTO quarantine (address, reason, since, assignment_id, operation_id, original_driver)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, since = excluded.since,
                operation_id = excluded.operation_id
            """, bindings: [.text(entry.address), .text(entry.reason), .text(Timestamp.format(entry.since)),
                            SQLValue(entry.assignmentID), SQLValue(entry.operationID), SQLValue(entry.originalDriver)])
    }

    static func delete(_ address: String, in connection: Connection) throws {
        try connection.run("DELETE FROM quarantine WHERE address = ?", bindings: [.text(address)])
    }

    static func all(in connection: Connection) throws -> [QuarantineEntry] {
        try connection.query("""
            SELECT address, reason, since, assignment_id, operation_id, original_driver FROM quarantine ORDER BY address
            """) { row in
            QuarantineEntry(address: row.string(0), reason: row.string(1),
                            since: Timestamp.parse(row.string(2)) ?? Date(timeIntervalSince1970: 0),
                            assignmentID: row.nullableString(3), operationID: row.nullableString(4),
                            originalDriver: row.nullableString(5))
        }
    }
}
