public import VFIOCore

/// One entry of the allowlist: which devices vfiod may ever lend.
///
/// Spellings (`--allow SPEC`, repeatable, or `allow` in the config file):
/// `all`; an address (`0000:41:00.0`); `vendor:device` in hex (`10de:2204`, or `10de:*`);
/// `class:PREFIX` with 2, 4 or 6 hex digits of the class code (`class:03` every display controller,
/// `class:0200` Ethernet).
public enum AllowSpec: Sendable, Hashable, CustomStringConvertible {
    /// Every device.
    case all
    /// One function.
    case address(PCIAddress)
    /// A vendor's devices, or one device id of a vendor.
    case ids(vendor: UInt16, device: UInt16?)
    /// Devices whose class code starts with `prefix` (`digits` hex digits long: 2, 4 or 6).
    case classPrefix(prefix: UInt32, digits: Int)

    /// Parses a spec; the error says what was expected.
    public init(parsing text: String) throws(AllowSpecError) {
        let spec = text.lowercased()
        if spec == "all" { self = .all; return }
        if spec.hasPrefix("class:") {
            let digits = spec.dropFirst("class:".count)
            guard [2, 4, 6].contains(digits.count), let value = UInt32(digits, radix: 16) else {
                throw AllowSpecError(spec: text, expected: "class:PREFIX with 2, 4 or 6 hex digits (class:03, class:0200)")
            }
            self = .classPrefix(prefix: value, digits: digits.count)
            return
        }
        if let address = PCIAddress(spec) { self = .address(address); return }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, parts[0].count == 4, let vendor = UInt16(parts[0], radix: 16) {
            if parts[1] == "*" { self = .ids(vendor: vendor, device: nil); return }
            if parts[1].count == 4, let device = UInt16(parts[1], radix: 16) {
                self = .ids(vendor: vendor, device: device)
                return
            }
        }
        throw AllowSpecError(spec: text, expected: "all, an address (0000:41:00.0), vendor:device (10de:2204 or 10de:*) or class:PREFIX")
    }

    /// Whether this spec admits the device.
    public func admits(_ facts: PCIDeviceFacts) -> Bool {
        switch self {
        case .all:
            return true
        case .address(let address):
            return facts.address == address
        case .ids(let vendor, let device):
            return facts.vendorID == vendor && (device == nil || facts.deviceID == device)
        case .classPrefix(let prefix, let digits):
            return facts.classCode >> UInt32(4 * (6 - digits)) == prefix
        }
    }

    /// The spec as a user would write it.
    public var description: String {
        switch self {
        case .all: return "all"
        case .address(let address): return address.description
        case .ids(let vendor, let device):
            return Hex.pad(vendor, 4) + ":" + (device.map { Hex.pad($0, 4) } ?? "*")
        case .classPrefix(let prefix, let digits): return "class:" + Hex.pad(prefix, digits)
        }
    }
}

/// An allowlist entry that could not be read.
public struct AllowSpecError: Error, Sendable, CustomStringConvertible {
    /// What the user wrote.
    public let spec: String
    /// What a valid spec looks like.
    public let expected: String
    /// One line for the terminal.
    public var description: String { "invalid allow spec \"\(spec)\": expected \(expected)" }
}

/// The set of specs; empty admits nothing (vfiod lends nothing until told what it may lend).
public struct Allowlist: Sendable, Hashable {
    /// The specs, in the order given.
    public var specs: [AllowSpec]

    /// Creates an allowlist.
    public init(_ specs: [AllowSpec] = []) { self.specs = specs }

    /// The spec that admits the device, if any.
    public func admittingSpec(for facts: PCIDeviceFacts) -> AllowSpec? {
        specs.first { $0.admits(facts) }
    }
}

/// Lowercase zero-padded hex, the way sysfs and the API print ids.
public enum Hex {
    /// `value` in lowercase hex, left-padded with zeros to `width` digits.
    public static func pad<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let text = String(value, radix: 16)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
