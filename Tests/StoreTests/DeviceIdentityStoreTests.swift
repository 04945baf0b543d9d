import Foundation
import Testing
@testable import Store

@Suite struct DeviceIdentityStoreTests {
    static let t1 = Date(timeIntervalSince1970: 1_738_324_800.250)
    static let t2 = Date(timeIntervalSince1970: 1_738_328_400.500)
    static let t3 = Date(timeIntervalSince1970: 1_738_332_000.750)

    static let gpu = DeviceIdentity(address: "0000:41:00.0", vendorID: 0x10de, deviceID: 0x2204,
                                    subsystemVendorID: 0x1458, subsystemDeviceID: 0x403b)
    static let nic = DeviceIdentity(address: "0000:03:00.0", vendorID: 0x8086, deviceID: 0x1521,
                                    serialNumber: "00-1b-21-ff-ff-aa-bb-cc")

    /// A migrated database in a fresh temp dir.
    func withStore<T>(_ body: (DeviceIdentityStore) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try Migrator().apply(to: database)
            return try body(DeviceIdentityStore(database: database))
        }
    }

    @Test func firstAndLastSeen() throws {
        try withStore { store in
            let first = try store.record([Self.gpu, Self.nic], at: Self.t1)
            #expect(Set(first.new) == [Self.gpu, Self.nic])
            #expect(first.changed.isEmpty && first.unchangedCount == 0)
            #expect(try store.history(address: Self.gpu.address).map { [$0.firstSeen, $0.lastSeen] } == [[Self.t1, Self.t1]])

            let second = try store.record([Self.gpu, Self.nic], at: Self.t2)
            #expect(second.new.isEmpty && second.changed.isEmpty && second.unchangedCount == 2)
            let history = try store.history(address: Self.gpu.address)
            #expect(history.map(\.identity) == [Self.gpu])
            #expect(history.map { [$0.firstSeen, $0.lastSeen] } == [[Self.t1, Self.t2]])
            #expect(try store.latest().map(\.identity) == [Self.nic, Self.gpu])  // by address
        }
    }

    @Test func timesAreStoredAsRFC3339Text() throws {
        try withStore { store in
            _ = try store.record([Self.nic], at: Self.t1)
            let stored = try store.database.query("SELECT first_seen, last_seen FROM device_identities") {
                [$0.string(0), $0.string(1)]
            }
            #expect(stored == [["2025-01-31T12:00:00.250Z", "2025-01-31T12:00:00.250Z"]])
        }
    }

    @Test func driftAtOneAddressIsReported() throws {
        try withStore { store in
            _ = try store.record([Self.gpu, Self.nic], at: Self.t1)
            var swapped = Self.gpu
            swapped.deviceID = 0x2684
            let drift = try store.record([swapped, Self.nic], at: Self.t2)
            #expect(drift.new.isEmpty)
            #expect(drift.unchangedCount == 1)
            #expect(drift.changed.map(\.address) == [Self.gpu.address])
            #expect(drift.changed.first?.previous.identity == Self.gpu)
            #expect(drift.changed.first?.previous.lastSeen == Self.t1)
            #expect(drift.changed.first?.current == swapped)
            #expect(try store.latest().first { $0.identity.address == Self.gpu.address }?.identity == swapped)

            // Back to the original card: drift again, and its old row is reused with first_seen kept.
            let back = try store.record([Self.gpu, Self.nic], at: Self.t3)
            #expect(back.changed.map { [$0.previous.identity, $0.current] } == [[swapped, Self.gpu]])
            let history = try store.history(address: Self.gpu.address)
            #expect(history.map(\.identity) == [Self.gpu, swapped])
            #expect(history.map { [$0.firstSeen, $0.lastSeen] } == [[Self.t1, Self.t3], [Self.t2, Self.t2]])
            #expect(try store.latest().first { $0.identity.address == Self.gpu.address }?.identity == Self.gpu)
        }
    }

    @Test func identitiesWithoutOptionalFieldsAreNotDuplicated() throws {
        try withStore { store in
            let bare = DeviceIdentity(address: "0000:00:1f.3", vendorID: 0x8086, deviceID: 0xa348, serialNumber: "")
            #expect(bare.serialNumber == nil)
            _ = try store.record([bare], at: Self.t1)
            _ = try store.record([bare], at: Self.t2)
            #expect(try store.history(address: bare.address).count == 1)
            // The unique index treats NULLs as one identity even for a writer that skips the store.
            let error = #expect(throws: DatabaseError.self) {
                try store.database.run("""
                    INSERT INTO device_identities (address, vendor_id, device_id, first_seen, last_seen)
                    VALUES ('0000:00:1f.3', 32902, 41800, '2025-01-31T12:00:00.000Z', '2025-01-31T12:00:00.000Z')
                    """)
            }
            #expect(error?.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        }
    }

    @Test func serialNumberChangeIsDrift() throws {
        try withStore { store in
            _ = try store.record([Self.nic], at: Self.t1)
            var replaced = Self.nic
            replaced.serialNumber = "00-1b-21-ff-ff-dd-ee-ff"
            let result = try store.record([replaced], at: Self.t2)
            #expect(result.changed.map(\.current) == [replaced])
        }
    }

    @Test func duplicateAddressInOneRefreshIsRefused() throws {
        try withStore { store in
            #expect(throws: DeviceIdentityStoreError.duplicateAddress(Self.gpu.address)) {
                try store.record([Self.gpu, Self.gpu], at: Self.t1)
            }
            let latest = try store.latest()
            #expect(latest.isEmpty)
        }
    }

    @Test func fourThousandNinetySixDevicesRecordedTwice() throws {
        let identities = (0..<4096).map { index in
            DeviceIdentity(address: String(format: "0000:%02x:%02x.%x", index / 256, index / 8 % 32, index % 8),
                           vendorID: 0x15b3, deviceID: 0x101e, subsystemVendorID: 0x15b3,
                           subsystemDeviceID: UInt16(index % 3 == 0 ? 0x0001 : 0x0002),
                           serialNumber: index % 2 == 0 ? "SN\(index)" : nil)
        }
        #expect(Set(identities.map(\.address)).count == 4096)
        try withStore { store in
            let clock = ContinuousClock()
            var first = IdentityRecordResult()
            let firstDuration = try clock.measure { first = try store.record(identities, at: Self.t1) }
            var second = IdentityRecordResult()
            let secondDuration = try clock.measure { second = try store.record(identities, at: Self.t2) }
            print("record 4096 identities: first \(firstDuration.milliseconds) ms, again \(secondDuration.milliseconds) ms")

            #expect(first.new.count == 4096)
            #expect(second.new.isEmpty && second.changed.isEmpty && second.unchangedCount == 4096)
            let latest = try store.latest()
            #expect(latest.count == 4096)
            #expect(latest.allSatisfy { $0.firstSeen == Self.t1 && $0.lastSeen == Self.t2 })
            #expect(Set(latest.map(\.identity)) == Set(identities))
        }
    }
}

extension Duration {
    /// The duration in whole-ish milliseconds, for reports.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded()
    }
}
