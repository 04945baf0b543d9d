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
        let stamp = SQLValue.text(Timestamp.format(time))
        return try database.transaction(.immediate) { connection in
            let latest = try Self.latestByAddress(connection)
            let touch = try connection.cachedStatement(
                "UPDATE device_identities SET last_seen = max(last_seen, ?) WHERE id = ?")
            // A changed identity may be one seen at this address before (A → B → A): the conflict on the
            // identity index then moves its last_seen on instead of inserting a second row.
            let upsert = try connection.cachedStatement("""
                INSERT INTO device_identities (address, vendor_id, device_id, subsystem_vendor_id,
                    subsystem_device_id, serial_number, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?7, ?7)
                ON CONFLICT DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)
                """)
            var result = IdentityRecordResult()
            for identity in identities {
                if let previous = latest[identity.address], previous.identity == identity {
                    try touch.bind(stamp, .integer(previous.id))
                    try touch.run()
                    result.unchangedCount += 1
                    continue
                }
                try upsert.bind(.text(identity.address), .integer(Int64(identity.vendorID)),
                                .integer(Int64(identity.deviceID)), SQLValue(identity.subsystemVendorID),
                                SQLValue(identity.subsystemDeviceID), SQLValue(identity.serialNumber), stamp)
                try upsert.run()
                if let previous = latest[identity.address] {
                    result.changed.append(IdentityChange(previous: previous, current: identity))
                } else {
                    result.new.append(identity)
                }
            }
            return result
        }
    }

    /// Every identity seen at `address`, oldest first.
    public func history(address: String) throws -> [IdentityRecord] {
        try database.withConnection { connection in
            let statement = try connection.cachedStatement(
                "SELECT \(Self.columns) FROM device_identities WHERE address = ? ORDER BY first_seen, id")
            try statement.bind(.text(address))
            return try statement.map(Self.record)
        }
    }

    /// The identity seen most recently at each address, by address.
    public func latest() throws -> [IdentityRecord] {
        try database.withConnection { try Self.latestRecords($0) }
    }

    private static let columns = """
        id, address, vendor_id, device_id, subsystem_vendor_id, subsystem_device_id, serial_number, \
        first_seen, last_seen
        """

    private static func latestRecords(_ connection: Connection) throws -> [IdentityRecord] {
        // For each address, the row with the greatest last_seen (ties: the newest row), found through the
        // (address, last_seen, id) index.
        try connection.cachedStatement("""
            SELECT \(columns) FROM device_identities AS d
            WHERE d.id = (SELECT i.id FROM device_identities AS i WHERE i.address = d.address
                          ORDER BY i.last_seen DESC, i.id DESC LIMIT 1)
            ORDER BY d.address
            """).map(record)
    }

    private static func latestByAddress(_ connection: Connection) throws -> [String: IdentityRecord] {
        let records = try latestRecords(connection)
        return Dictionary(records.map { ($0.identity.address, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func record(_ row: Row) throws -> IdentityRecord {
        let id = row.int64(0)
        func id16(_ column: Int) throws -> UInt16? {
            guard let value = row.nullableInt64(column) else { return nil }
            guard let id16 = UInt16(exactly: value) else {
                throw DeviceIdentityStoreError.invalidRow(id: id, reason: "\(row.columnName(column)) \(value) is not 16-bit")
            }
            return id16
        }
        func time(_ column: Int) throws -> Date {
            guard let date = Timestamp.parse(row.string(column)) else {
                throw DeviceIdentityStoreError.invalidRow(
                    id: id, reason: "\(row.columnName(column)) '\(row.string(column))' is not RFC 3339 UTC with milliseconds")
            }
            return date
        }
        let identity = DeviceIdentity(address: row.string(1), vendorID: try id16(2) ?? 0, deviceID: try id16(3) ?? 0,
                                      subsystemVendorID: try id16(4), subsystemDeviceID: try id16(5),
                                      serialNumber: row.nullableString(6))
        return IdentityRecord(id: id, identity: identity, firstSeen: try time(7), lastSeen: try time(8))
    }
}
