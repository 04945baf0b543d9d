/// `vfiod devices [ADDR]`: the inventory as a table, or one device in detail.
enum DeviceCommand {
    static let command = ClientCommand(
        name: "devices", synopsis: "devices [ADDR] [--state S] [--vendor V] [--driver D] [--group N]",
        summary: "The host's PCI devices as a table, or one device in detail.",
        details: """
        Without ADDR: every device (GET /v1/devices, all pages), filtered by state (available, assigned, …),
        vendor id (8086), driver (none = unbound) or IOMMU group. With ADDR (0000:41:00.0): that device.
        -o json prints the API's list ({"items": [...]}) or the device object.
        """,
        options: ["--state", "--vendor", "--driver", "--group"], run: run)

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let query = APIConnection.query([
            ("state", try arguments.value("--state")), ("vendorId", try arguments.value("--vendor")),
            ("driver", try arguments.value("--driver")), ("iommuGroup", try arguments.value("--group")),
        ])
        let address = try arguments.positionals(max: 1, command: "devices").first
        if let address {
            guard query.isEmpty else { throw .usage("devices: filters apply to the list, not to one device") }
            return try detail(address, session)
        }
        let (body, devices) = try session.api.list("/v1/devices" + query)
        if session.json {
            session.terminal.bytes(body)
            return 0
        }
        let terminal = session.terminal
        var table = Table("ADDRESS", "IDS", "NAME", "DRIVER", "GROUP", "STATE", "ASSIGNMENT")
        for device in devices {
            table.add([device.text("address"), "\(device.text("vendorId")):\(device.text("deviceId"))", name(device),
                       device.text("driver"), device.text("iommuGroup"), terminal.state(device.text("state")),
                       device.text("assignmentId")])
        }
        terminal.line(devices.isEmpty ? "no devices" : table.render(terminal))
        return 0
    }

    /// Vendor and device names, shortened for a table.
    private static func name(_ device: JSONObject) -> String {
        let parts = [device.string("vendorName"), device.string("deviceName")].compactMap { $0 }
        let text = parts.isEmpty ? (device.string("className") ?? "-") : parts.joined(separator: " ")
        return text.count > 48 ? String(text.prefix(47)) + "…" : text
    }

    private static func detail(_ address: String, _ session: Session) throws(ClientError) -> Int32 {
        let (reply, device) = try session.api.get("/v1/devices/" + APIConnection.escape(address))
        if session.json {
            session.printBody(reply)
            return 0
        }
        let terminal = session.terminal
        var details = Details()
        details.add("address", device.text("address"))
        details.add("ids", "\(device.text("vendorId")):\(device.text("deviceId")) (subsystem \(device.text("subsystemVendorId")):\(device.text("subsystemDeviceId")), revision \(device.text("revision")))")
        details.add("name", [device.string("vendorName"), device.string("deviceName")].compactMap { $0 }.joined(separator: " "))
        details.add("class", "\(device.text("classCode")) \(device.string("className") ?? "")")
        details.add("driver", device.text("driver") + (device.string("driverOverride").map { " (override \($0))" } ?? ""))
        details.add("IOMMU group", device.text("iommuGroup"))
        details.add("state", terminal.state(device.text("state")) + (device.string("stateReason").map { ": \($0)" } ?? ""))
        if let assignment = device.string("assignmentId") { details.add("assignment", assignment) }
        details.add("NUMA node", device.text("numaNode"))
        details.add("reset methods", device.strings("resetMethods").joined(separator: ", "))
        if let total = device.int("totalVfs") { details.add("SR-IOV", "\(device.text("numVfs")) of \(total) VFs") }
        if let physfn = device.string("physfn") { details.add("physical function", physfn) }
        details.add("boot VGA", device.text("bootVga"))
        details.add("bridge", device.text("isBridge"))
        details.add("vfio cdev", device.text("vfioCdev"))
        if let serial = device.string("serialNumber") { details.add("serial", serial) }
        terminal.line(details.render())
        for note in device.strings("notes") { terminal.line("  note: " + note) }
        return 0
    }
}
