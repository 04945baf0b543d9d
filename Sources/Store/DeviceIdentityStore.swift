import Foundation

/// The history of device identities per PCI address (table `device_identities`, migration 0001), kept so
/// that drift (a different device at a known address) can be detected and audited.
public struct DeviceIdentityStore: Sendable {
    /// The database, already migrated.
    public let database: Database

    /// A store over `database`; run `Migrator().apply(to:)` on it first.
    public init(database: Database) {
        self.database = database
    }

    /// Records one refresh's identities as seen at `time`, in one transaction: an identity never seen at
    /// its address is inserted with `first_seen = last_seen = time`; a known one gets `last_seen = time`
    /// (never moved backwards). Addresses absent from `identities` are left alone.
    public func record(_ identities: [DeviceIdentity], at time: Date) throws -> IdentityRecordResult {
        var addresses = Set<String>(minimumCapacity: identities.count)
        for identity in identities where !addresses.insert(identity.address).inserted {
            throw DeviceIdentityStoreError.duplicateAddress(identity.address)
        }
        let stamp = Timestamp.format(time)
        return try database.write { connection in
            let latest = try Self.latestRows(connection)
            // A changed identity may be one seen at this address before (A → B → A): the conflict on the
            // identity index then moves its last_seen on instead of inserting a second row.
            let upsert = try connection.cachedStatement("""
                INSERT INTO device_identities (address, vendor_id, device_id, subsystem_vendor_id,
                    subsystem_device_id, serial_number, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?7, ?7)
                ON CONFLICT DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)
                """)
            var result = IdentityRecordResult()
            var unchangedIDs: [Int64] = []
            for identity in identities {
                let previous = latest[identity.address]
                if let previous, previous.identity == identity {
                    unchangedIDs.append(previous.id)
                    continue
                }
                try upsert.bind(.text(identity.address), .integer(Int64(identity.vendorID)),
                                .integer(Int64(identity.deviceID)), SQLValue(identity.subsystemVendorID),
                                SQLValue(identity.subsystemDeviceID), SQLValue(identity.serialNumber), .text(stamp))
                try upsert.run()
                if let previous {
                    result.changed.append(IdentityChange(previous: try previous.record(), current: identity))
                } else {
                    result.new.append(identity)
                }
            }
            result.unchangedCount = unchangedIDs.count
            try Self.touch(unchangedIDs, at: stamp, connection)
            return result
        }
    }

    /// Moves `last_seen` of the rows `ids` on to `stamp` in one statement (the ids travel as a JSON array:
    /// one statement instead of thousands). `last_seen` never moves backwards.
    private static func touch(_ ids: [Int64], at stamp: String, _ connection: Connection) throws {
        guard !ids.isEmpty else { return }
        let list = "[" + ids.map { String($0) }.joined(separator: ",") + "]"
        try connection.run("""
            UPDATE device_identities SET last_seen = max(last_seen, ?)
            WHERE id IN (SELECT value FROM json_each(?))
            """, .text(stamp), .text(list))
    }

    /// Every identity seen at `address`, oldest first.
    public func history(address: String) throws -> [IdentityRecord] {
        try database.read { connection in
            let statement = try connection.cachedStatement(
                "SELECT \(Self.columns) FROM device_identities WHERE address = ? ORDER BY first_seen, id")
            try statement.bind(.text(address))
            return try statement.map { try StoredIdentity($0).record() }
        }
    }

    /// The identity seen most recently at each address, by address.
    public func latest() throws -> [IdentityRecord] {
        try database.read { connection in
            try Self.latestRows(connection).values.sorted { $0.identity.address < $1.identity.address }
                .map { try $0.record() }
        }
    }

    static let columns = """
        id, address, vendor_id, device_id, subsystem_vendor_id, subsystem_device_id, serial_number, \
        first_seen, last_seen
        """

    /// The latest row per address with its times still as text: `record(_:at:)` parses only the few it
    /// reports.
    private static func latestRows(_ connection: Connection) throws -> [String: StoredIdentity] {
        // For each address, the row with the greatest last_seen (ties: the newest row), found through the
        // (address, last_seen, id) index.
        let statement = try connection.cachedStatement("""
            SELECT \(columns) FROM device_identities AS d
            WHERE d.id = (SELECT i.id FROM device_identities AS i WHERE i.address = d.address
                          ORDER BY i.last_seen DESC, i.id DESC LIMIT 1)
            """)
        var rows: [String: StoredIdentity] = [:]
        try statement.forEachRow { row in
            let stored = try StoredIdentity(row)
            rows[stored.identity.address] = stored
        }
        return rows
    }
}

/// A `device_identities` row as read, times still text.
private struct StoredIdentity {
    let id: Int64
    let identity: DeviceIdentity
    let firstSeen: String
    let lastSeen: String

    /// Reads a row selected with `DeviceIdentityStore.columns`.
    init(_ row: Row) throws {
        let id = row.int64(0)
        func id16(_ column: Int) throws -> UInt16? {
            guard let value = row.nullableInt64(column) else { return nil }
            guard let id16 = UInt16(exactly: value) else {
                throw DeviceIdentityStoreError.invalidRow(id: id, reason: "\(row.columnName(column)) \(value) is not 16-bit")
            }
            return id16
        }
        self.id = id
        identity = DeviceIdentity(address: row.string(1), vendorID: try id16(2) ?? 0, deviceID: try id16(3) ?? 0,
                                  subsystemVendorID: try id16(4), subsystemDeviceID: try id16(5),
                                  serialNumber: row.nullableString(6))
        firstSeen = row.string(7)
        lastSeen = row.string(8)
    }

    /// The row with its times parsed.
    func record() throws -> IdentityRecord {
        func time(_ text: String, _ column: String) throws -> Date {
            guard let date = Timestamp.parse(text) else {
                throw DeviceIdentityStoreError.invalidRow(
                    id: id, reason: "\(column) '\(text)' is not RFC 3339 UTC with milliseconds")
            }
            return date
        }
        return IdentityRecord(id: id, identity: identity, firstSeen: try time(firstSeen, "first_seen"),
                              lastSeen: try time(lastSeen, "last_seen"))
    }
}
