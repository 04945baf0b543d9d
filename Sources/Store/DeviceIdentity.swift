import Foundation

/// What a PCI function says it is: the IDs and serial number read at an address.
///
/// Two identities are equal when every field is; a different one at the same address is drift (a card
/// swapped, firmware that changed its subsystem IDs, a VF renumbered).
public struct DeviceIdentity: Sendable, Hashable {
    /// The PCI address, `0000:41:00.0` (lowercase, as sysfs writes it).
    public var address: String
    /// `vendor`.
    public var vendorID: UInt16
    /// `device`.
    public var deviceID: UInt16
    /// `subsystem_vendor`, nil when the device has none.
    public var subsystemVendorID: UInt16?
    /// `subsystem_device`, nil when the device has none.
    public var subsystemDeviceID: UInt16?
    /// The device serial number (PCIe DSN) or another stable serial, nil when unknown. An empty string
    /// means none and is stored as nil.
    public var serialNumber: String?

    /// Makes an identity; an empty `serialNumber` becomes nil.
    public init(address: String, vendorID: UInt16, deviceID: UInt16, subsystemVendorID: UInt16? = nil,
                subsystemDeviceID: UInt16? = nil, serialNumber: String? = nil) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.subsystemVendorID = subsystemVendorID
        self.subsystemDeviceID = subsystemDeviceID
        self.serialNumber = serialNumber?.isEmpty == true ? nil : serialNumber
    }
}

/// One row of identity history: an identity and the span of time it was seen at its address.
public struct IdentityRecord: Sendable, Hashable {
    /// The row id.
    public let id: Int64
    /// The identity.
    public let identity: DeviceIdentity
    /// The first refresh that saw it (millisecond precision).
    public let firstSeen: Date
    /// The latest refresh that saw it (millisecond precision).
    public let lastSeen: Date
}

/// An address whose identity is not the one seen there last.
public struct IdentityChange: Sendable, Hashable {
    /// The identity seen there most recently before this refresh.
    public let previous: IdentityRecord
    /// The identity seen now.
    public let current: DeviceIdentity

    /// The address.
    public var address: String { current.address }
}

/// What one `DeviceIdentityStore.record(_:at:)` found. Every identity passed in is in exactly one of
/// `new`, `changed` or counted in `unchangedCount`.
public struct IdentityRecordResult: Sendable, Hashable {
    /// Identities at addresses with no history: devices seen for the first time.
    public var new: [DeviceIdentity] = []
    /// Addresses whose identity differs from the one seen there last: drift, for the audit log.
    public var changed: [IdentityChange] = []
    /// Identities equal to the one seen at their address last time (their `last_seen` moved on).
    public var unchangedCount = 0
}

/// Why `DeviceIdentityStore` refused input or could not read its table.
public enum DeviceIdentityStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One refresh listed an address twice.
    case duplicateAddress(String)
    /// A stored row does not fit the types (an ID out of range, a malformed time).
    case invalidRow(id: Int64, reason: String)

    /// One line for logs.
    public var description: String {
        switch self {
        case let .duplicateAddress(address): "address \(address) is listed twice in one refresh"
        case let .invalidRow(id, reason): "device_identities row \(id) is invalid: \(reason)"
        }
    }
}
