import Foundation
import Store

/// Assignments in SQLite: rows in, rows out. Every function runs inside the caller's transaction, so a
/// change and its audit entry commit together.
enum AssignmentRecords {
    static let columns = """
        id, group_id, holder_id, tenant, state, ttl_seconds, expires_at, reset_on_release, generation,
        created_at, updated_at, created_by, failure, release_reason, device_paths, callback_url,
        release_grace_seconds, release_timeout_seconds, escalation, holder_uid
        """

    /// Inserts a new assignment; the unique partial index refuses a second live one for the group.
    static func insert(_ assignment: Assignment, in connection: Connection) throws {
        try connection.run("""
            INSERT INTO assignments (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, bindings: values(assignment))
        for device in assignment.devices {
            try connection.run("""
                INSERT INTO assignment_devices (assignment_id, address, original_driver, is_bridge) VALUES (?, ?, ?, ?)
                """, bindings: [.text(assignment.id), .text(device.address), SQLValue(device.originalDriver),
                                .integer(device.isBridge ? 1 : 0)])
        }
    }

    /// Writes every mutable column of `assignment` back (generation included: callers bump it).
    static func update(_ assignment: Assignment, in connection: Connection) throws {
        try connection.run("""
            UPDATE assignments SET state = ?, ttl_seconds = ?, expires_at = ?, generation = ?, updated_at = ?, failure = ?,
                release_reason = ?, device_paths = ? WHERE id = ?
            """, bindings: [.text(assignment.state.rawValue), .integer(Int64(assignment.ttlSeconds)),
                            .text(Timestamp.format(assignment.expiresAt)),
                            .integer(assignment.generation), .text(Timestamp.format(assignment.updatedAt)),
                            SQLValue(assignment.failure), SQLValue(assignment.releaseReason),
                            .text(JSONStrings.encode(assignment.devicePaths)), .text(assignment.id)])
        // A device whose original driver is already the one stored is left alone: no row write (nor page
        // for the savepoint's journal) when nothing changed, which is most updates.
        for device in assignment.devices {
            try connection.run("""
                UPDATE assignment_devices SET original_driver = ?1
                WHERE assignment_id = ?2 AND address = ?3 AND original_driver IS NOT ?1
                """, bindings: [SQLValue(device.originalDriver), .text(assignment.id), .text(device.address)])
        }
    }

    static func get(_ id: String, in connection: Connection) throws -> Assignment? {
        try list(where: "id = ?", [.text(id)], in: connection).first
    }

    /// The tenant of assignment `id` (all a reader of one of its operations needs of it), if it exists.
    static func tenant(of id: String, in connection: Connection) throws -> String? {
        try connection.query("SELECT tenant FROM assignments WHERE id = ?", bindings: [.text(id)]) { $0.string(0) }.first
    }

    /// What makes an assignment live (it holds or is taking devices): the partial index
    /// `assignments_one_live_per_group`'s condition word for word (migration 0009), so SQLite reads that
    /// index for a query that names it.
    static let isLive = "(state = 'binding' OR state = 'active' OR state = 'releasing')"

    /// The live assignment of a group, if any.
    static func live(group: Int, in connection: Connection) throws -> Assignment? {
        try list(where: "group_id = ? AND \(isLive)", [.integer(Int64(group))], in: connection).first
    }

    /// A page of assignments matching `filter` (and visible to `tenant`, when set) after `afterID`, in id order.
    static func list(_ filter: AssignmentFilter, tenant: String?, after afterID: String?, limit: Int,
                     in connection: Connection) throws -> [Assignment] {
        var conditions = ["1 = 1"]
        var bindings: [SQLValue] = []
        if let state = filter.state { conditions.append("state = ?"); bindings.append(.text(state.rawValue)) }
        if let holder = filter.holder { conditions.append("holder_id = ?"); bindings.append(.text(holder)) }
        if let tenant = filter.tenant { conditions.append("tenant = ?"); bindings.append(.text(tenant)) }
        if let tenant { conditions.append("tenant = ?"); bindings.append(.text(tenant)) }
        if let device = filter.device {
            conditions.append("id IN (SELECT assignment_id FROM assignment_devices WHERE address = ?)")
            bindings.append(.text(device))
        }
        if let afterID { conditions.append("id > ?"); bindings.append(.text(afterID)) }
        return try list(where: conditions.joined(separator: " AND "), bindings, limit: limit, in: connection)
    }

    /// The assignments that hold or are taking devices (`binding`, `active`, `releasing`).
    static func live(in connection: Connection) throws -> [Assignment] {
        try list(where: isLive, [], in: connection)
    }

    /// The active assignments.
    static func active(in connection: Connection) throws -> [Assignment] {
        try list(where: "state = 'active'", [], in: connection)
    }

    /// Ids of the active assignments whose lease ended by `time`, soonest first.
    static func expired(asOf time: Date, in connection: Connection) throws -> [String] {
        try connection.query("SELECT id FROM assignments WHERE state = 'active' AND expires_at <= ? ORDER BY expires_at",
                             bindings: [.text(Timestamp.format(time))]) { $0.string(0) }
    }

    /// When the earliest active assignment expires; `nil` with none active.
    static func nextExpiry(in connection: Connection) throws -> Date? {
        try connection.query("SELECT MIN(expires_at) FROM assignments WHERE state = 'active'") { row in
            row.nullableString(0).flatMap(Timestamp.parse)
        }.first ?? nil
    }

    /// Assignments matching a SQL condition, ordered by id, with their devices.
    private static func list(where condition: String, _ bindings: [SQLValue], limit: Int = -1,
                     in connection: Connection) throws -> [Assignment] {
        var assignments = try connection.query(
            "SELECT \(columns) FROM assignments WHERE \(condition) ORDER BY id LIMIT \(limit)",
            bindings: bindings, map: row)
        for index in assignments.indices {
            assignments[index].devices = try connection.query("""
                SELECT address, original_driver, is_bridge FROM assignment_devices WHERE assignment_id = ? ORDER BY address
                """, bindings: [.text(assignments[index].id)]) { row in
                AssignmentDevice(address: row.string(0), originalDriver: row.nullableString(1), isBridge: row.int64(2) != 0)
            }
        }
        return assignments
    }

    private static func values(_ a: Assignment) -> [SQLValue] {
        [.text(a.id), .integer(Int64(a.groupID)), .text(a.holder.id), .text(a.holder.tenant), .text(a.state.rawValue),
         .integer(Int64(a.ttlSeconds)), .text(Timestamp.format(a.expiresAt)), .integer(a.resetOnRelease ? 1 : 0),
         .integer(a.generation), .text(Timestamp.format(a.createdAt)), .text(Timestamp.format(a.updatedAt)),
         .text(a.createdBy), SQLValue(a.failure), SQLValue(a.releaseReason), .text(JSONStrings.encode(a.devicePaths)),
         SQLValue(a.release.callbackURL), .integer(Int64(a.release.graceSeconds)), .integer(Int64(a.release.timeoutSeconds)),
         .text(a.release.escalation.rawValue), a.holder.uid.map { .integer(Int64($0)) } ?? .null]
    }

    private static func row(_ row: Row) throws -> Assignment {
        guard let state = AssignmentState(rawValue: row.string(4)),
              let expiresAt = Timestamp.parse(row.string(6)),
              let createdAt = Timestamp.parse(row.string(9)),
              let updatedAt = Timestamp.parse(row.string(10)) else {
            throw AssignmentError.corruptRow("assignment \(row.string(0))")
        }
        return Assignment(
            id: row.string(0), groupID: Int(row.int64(1)), devices: [],
            holder: Holder(id: row.string(2), tenant: row.string(3), uid: row.nullableInt64(19).flatMap { UInt32(exactly: $0) }), state: state, ttlSeconds: Int(row.int64(5)),
            expiresAt: expiresAt, resetOnRelease: row.int64(7) != 0, generation: row.int64(8), createdAt: createdAt,
            updatedAt: updatedAt, createdBy: row.string(11), failure: row.nullableString(12),
            releaseReason: row.nullableString(13), devicePaths: JSONStrings.decode(row.string(14)),
            release: ReleasePolicy(callbackURL: row.nullableString(15), graceSeconds: Int(row.int64(16)),
                                   timeoutSeconds: Int(row.int64(17)), escalation: Escalation(rawValue: row.string(18)) ?? .wait))
    }
}

/// A JSON array of strings in one TEXT column (device paths: plain ASCII, so the common case is written
/// and read without Foundation's JSON machinery; anything else goes through `JSONSerialization`).
enum JSONStrings {
    static func encode(_ values: [String]) -> String {
        if values.allSatisfy(isPlain) {
            // One string, sized once (every assignment written goes through here, on the writer).
            var text = "["
            text.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                text += "\""
                text += value
                text += "\""
            }
            text += "]"
            return text
        }
        let data = try? JSONSerialization.data(withJSONObject: values)
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func decode(_ text: String) -> [String] {
        if text == "[]" { return [] }
        if let values = decodePlain(Array(text.utf8)) { return values }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
    }

    /// `["a","b"]` of plain values, read byte by byte (every assignment read in a write goes through here):
    /// between the brackets, quotes alternate with the values and the commas between them.
    private static func decodePlain(_ bytes: [UInt8]) -> [String]? {
        let quote = UInt8(ascii: "\"")
        guard bytes.count >= 4, bytes[0] == UInt8(ascii: "["), bytes[1] == quote,
              bytes[bytes.count - 2] == quote, bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        let parts = bytes[2..<(bytes.count - 2)].split(separator: quote, omittingEmptySubsequences: false)
        guard parts.count % 2 == 1 else { return nil }
        var values: [String] = []
        values.reserveCapacity(parts.count / 2 + 1)
        for (index, part) in parts.enumerated() {
            if index % 2 == 1 {
                guard part.count == 1, part.first == UInt8(ascii: ",") else { return nil }
            } else {
                guard part.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\\") }) else { return nil }
                values.append(String(decoding: part, as: UTF8.self))
            }
        }
        return values
    }

    /// Printable ASCII without a quote or a backslash: written as is between quotes.
    private static func isPlain(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }
}
