/// Names from the pci.ids database (`/usr/share/misc/pci.ids`): vendors, devices, subsystems and classes.
///
/// Parsed once from bytes (no `String` per line): only the names are turned into `String`s.
public struct PCIIDDatabase: Sendable {
    /// Debian's location of the database.
    public static let defaultPath = "/usr/share/misc/pci.ids"

    private var vendors: [UInt16: String] = [:]
    private var devices: [UInt32: String] = [:]
    private var subsystems: [UInt64: String] = [:]
    private var classes: [UInt8: String] = [:]
    private var subclasses: [UInt16: String] = [:]
    private var programmingInterfaces: [UInt32: String] = [:]

    /// An empty database: every lookup answers `nil`, callers show ids only.
    public init() {}

    /// Reads and parses the file at `path`. Throws ``KernelError`` when it cannot be read.
    public init(path: String) throws {
        self.init(contents: try SysfsFiles.readBytes(path, limit: 16 << 20))
    }

    /// Parses the text of a pci.ids file.
    public init(contents: [UInt8]) {
        contents.withUnsafeBufferPointer { parse($0) }
    }

    /// The number of vendors known.
    public var vendorCount: Int { vendors.count }
    /// The number of devices known.
    public var deviceCount: Int { devices.count }

    /// The vendor's name (`0x10de` → `NVIDIA Corporation`).
    public func vendorName(_ vendor: UInt16) -> String? { vendors[vendor] }

    /// The device's name within its vendor.
    public func deviceName(vendor: UInt16, device: UInt16) -> String? {
        devices[UInt32(vendor) << 16 | UInt32(device)]
    }

    /// The subsystem's name (a board built on the device).
    public func subsystemName(vendor: UInt16, device: UInt16, subsystemVendor: UInt16, subsystemDevice: UInt16) -> String? {
        subsystems[UInt64(vendor) << 48 | UInt64(device) << 32 | UInt64(subsystemVendor) << 16 | UInt64(subsystemDevice)]
    }

    /// The most specific name of a 24-bit class code: programming interface, else subclass, else base class
    /// (`0x030000` → `VGA compatible controller`, `0x010802` → `NVM Express`).
    public func className(_ classCode: UInt32) -> String? {
        if let name = programmingInterfaces[classCode & 0xff_ffff] { return name }
        if let name = subclasses[UInt16(truncatingIfNeeded: classCode >> 8)] { return name }
        return classes[UInt8(truncatingIfNeeded: classCode >> 16)]
    }

    // MARK: Parsing

    private mutating func parse(_ text: UnsafeBufferPointer<UInt8>) {
        var vendor: UInt16?
        var device: UInt16?
        var baseClass: UInt8?
        var subclass: UInt8?
        var lineStart = 0
        let end = text.count
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, text[lineEnd] != 0x0a { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var index = lineStart
            guard index < lineEnd, text[index] != UInt8(ascii: "#") else { continue }
            var tabs = 0
            while index < lineEnd, text[index] == 0x09 { tabs += 1; index += 1 }
            if tabs == 0, text[index] == UInt8(ascii: "C"), index + 1 < lineEnd, text[index + 1] == 0x20 {
                index += 2
                guard let id = Self.hex(text, &index, lineEnd) else { continue }
                let code = UInt8(truncatingIfNeeded: id)
                baseClass = code; subclass = nil; vendor = nil
                classes[code] = Self.name(text, index, lineEnd)
                continue
            }
            guard let id = Self.hex(text, &index, lineEnd) else { continue }
            switch tabs {
            case 0:
                let vendorID = UInt16(truncatingIfNeeded: id)
                vendor = vendorID; device = nil; baseClass = nil
                vendors[vendorID] = Self.name(text, index, lineEnd)
            case 1:
                if let vendor {
                    let deviceID = UInt16(truncatingIfNeeded: id)
                    device = deviceID
                    devices[UInt32(vendor) << 16 | UInt32(deviceID)] = Self.name(text, index, lineEnd)
                } else if let baseClass {
                    let subclassCode = UInt8(truncatingIfNeeded: id)
                    subclass = subclassCode
                    subclasses[UInt16(baseClass) << 8 | UInt16(subclassCode)] = Self.name(text, index, lineEnd)
                }
            case 2:
                if let vendor, let device {
                    while index < lineEnd, text[index] == 0x20 { index += 1 }
                    guard let subDevice = Self.hex(text, &index, lineEnd) else { continue }
                    let key = UInt64(vendor) << 48 | UInt64(device) << 32 | UInt64(id & 0xffff) << 16 | UInt64(subDevice & 0xffff)
                    subsystems[key] = Self.name(text, index, lineEnd)
                } else if let baseClass, let subclass {
                    let key = UInt32(baseClass) << 16 | UInt32(subclass) << 8 | UInt32(id & 0xff)
                    programmingInterfaces[key] = Self.name(text, index, lineEnd)
                }
            default:
                continue
            }
        }
    }

    /// Reads hex digits at `index`, advancing past them; `nil` when there are none.
    private static func hex(_ text: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ end: Int) -> UInt32? {
        var value: UInt32 = 0
        let start = index
        while index < end, let digit = SysfsText.hexDigit(text[index]), index - start < 8 {
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return index > start ? value : nil
    }

    /// The rest of the line after the separating spaces.
    private static func name(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        var index = start
        while index < end, text[index] == 0x20 || text[index] == 0x09 { index += 1 }
        var last = end
        while last > index, text[last - 1] == 0x20 || text[last - 1] == 0x0d { last -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: text[index..<last]), as: UTF8.self)
    }
}
