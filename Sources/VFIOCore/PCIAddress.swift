/// A PCI function address, `domain:bus:slot.function`, as sysfs names it (`0000:41:00.0`).
///
/// Parsing is strict and happens before any path is built from an address, so an address can never
/// carry a `/` or `..` into a sysfs path.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The PCI segment (domain); sysfs prints at least four hex digits, VMD domains use up to eight.
    public let domain: UInt32
    /// The bus number.
    public let bus: UInt8
    /// The slot (device) number, 0–31.
    public let slot: UInt8
    /// The function number, 0–7.
    public let function: UInt8

    /// Creates an address from its parts; `nil` when the slot or function is out of range.
    public init?(domain: UInt32, bus: UInt8, slot: UInt8, function: UInt8) {
        guard slot < 32, function < 8 else { return nil }
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function
    }

    /// Parses the canonical lowercase form `^[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$`.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        // Layout from the end: "bb:ss.f" is 7 bytes after the domain and its colon.
        guard bytes.count >= 12, bytes.count <= 16 else { return nil }
        let domainLength = bytes.count - 8
        guard bytes[domainLength] == UInt8(ascii: ":"),
              bytes[domainLength + 3] == UInt8(ascii: ":"),
              bytes[domainLength + 6] == UInt8(ascii: ".") else { return nil }
        guard let domain = Self.hex(bytes[0..<domainLength]),
              let bus = Self.hex(bytes[(domainLength + 1)..<(domainLength + 3)]),
              let slot = Self.hex(bytes[(domainLength + 4)..<(domainLength + 6)]),
              let function = Self.hex(bytes[(domainLength + 7)..<(domainLength + 8)]) else { return nil }
        self.init(domain: UInt32(domain), bus: UInt8(bus), slot: UInt8(slot), function: UInt8(function))
    }

    /// Lowercase hex digits only; uppercase is refused so that one device has one spelling.
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// The canonical form: at least four domain digits, lowercase.
    public var description: String {
        // `dddd:bb:ss.f` written digit by digit (this runs for every path and key built from an address);
        // a domain above 0xffff takes as many digits as it needs.
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var domainDigits = 4
        while domainDigits < 8 && UInt64(domain) >> (4 * domainDigits) != 0 { domainDigits += 1 }
        return String(unsafeUninitializedCapacity: domainDigits + 8) { buffer in
            var at = 0
            func put(_ value: UInt64, _ count: Int) {
                for shift in stride(from: 4 * (count - 1), through: 0, by: -4) {
                    buffer[at] = hex[Int((value >> UInt64(shift)) & 0xf)]
                    at += 1
                }
            }
            put(UInt64(domain), domainDigits)
            buffer[at] = UInt8(ascii: ":"); at += 1
            put(UInt64(bus), 2)
            buffer[at] = UInt8(ascii: ":"); at += 1
            put(UInt64(slot), 2)
            buffer[at] = UInt8(ascii: "."); at += 1
            put(UInt64(function), 1)
            return at
        }
    }

    /// Orders by domain, bus, slot, function: the order `lspci` prints.
    public static func < (lhs: PCIAddress, rhs: PCIAddress) -> Bool {
        (lhs.domain, lhs.bus, lhs.slot, lhs.function) < (rhs.domain, rhs.bus, rhs.slot, rhs.function)
    }
}
