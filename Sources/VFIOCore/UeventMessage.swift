/// One kernel uevent about a PCI function: `ACTION@DEVPATH\0KEY=VALUE\0…` as sent on NETLINK_KOBJECT_UEVENT.
public struct UeventMessage: Sendable, Hashable {
    /// `add`, `remove`, `bind`, `unbind`, `change` …
    public var action: String
    /// `DEVPATH`, relative to `/sys` (`/devices/pci0000:00/0000:00:01.0/0000:01:00.0`).
    public var devicePath: String
    /// `SUBSYSTEM` (`pci` for the events the monitor passes on).
    public var subsystem: String?
    /// `PCI_SLOT_NAME` parsed as an address.
    public var address: PCIAddress?
    /// `DRIVER`: the driver bound (on `bind`) or the one being unbound.
    public var driver: String?
    /// Every `KEY=VALUE` pair.
    public var properties: [String: String]

    /// A PCI uevent as the kernel sends it for `address` (the simulated kernel's own).
    public init(action: String, devicePath: String, address: PCIAddress, driver: String?) {
        self.action = action
        self.devicePath = devicePath
        subsystem = "pci"
        self.address = address
        self.driver = driver
        var properties = ["ACTION": action, "DEVPATH": devicePath, "SUBSYSTEM": "pci", "PCI_SLOT_NAME": address.description]
        properties["DRIVER"] = driver
        self.properties = properties
    }

    /// Parses one datagram; `nil` for udev's re-broadcasts (`libudev` header) or malformed input.
    public init?(_ bytes: [UInt8]) {
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: true)
        guard let header = fields.first, let at = header.firstIndex(of: UInt8(ascii: "@")) else { return nil }
        var properties: [String: String] = [:]
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: field[field.startIndex..<equals], as: UTF8.self)
            properties[key] = String(decoding: field[(equals + 1)...], as: UTF8.self)
        }
        action = properties["ACTION"] ?? String(decoding: header[header.startIndex..<at], as: UTF8.self)
        devicePath = properties["DEVPATH"] ?? String(decoding: header[(at + 1)...], as: UTF8.self)
        subsystem = properties["SUBSYSTEM"]
        address = properties["PCI_SLOT_NAME"].flatMap { PCIAddress($0.lowercased()) }
        driver = properties["DRIVER"]
        self.properties = properties
    }
}
