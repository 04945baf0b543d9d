/// The devices the QEMU lab guest (and `examples/topologies/qemu-lab.json`) carries, by vendor:device id, with
/// the driver each starts on. Scenarios find them in `GET /v1/devices` by these ids, never by address.
enum LabDevices {
    /// QEMU's `edu` test device: no driver. One sits alone behind a root port, one behind the PCIe-to-PCI bridge.
    static let edu = "1234:11e8"
    /// `e1000e` (82574L) behind a root port with `x-speed=5`: hot reset works.
    static let e1000e = "8086:10d3"
    /// `e1000` (82540EM) behind the PCIe-to-PCI bridge, sharing the bridge's group with the second edu.
    static let e1000 = "8086:100e"
    /// QEMU NVMe behind a default root port: hot reset fails with `ENOTTY`.
    static let nvme = "1b36:0010"

    /// The drivers each may start on (`nil`: none), from `lab/facts/`: Debian's 6.12 has an nvme driver, the
    /// iommufd lab kernel has none.
    static let startingDrivers: [String: Set<String?>] = [edu: [nil], e1000e: ["e1000e"], e1000: ["e1000"], nvme: ["nvme", nil]]

    /// vfiod's `--allow` arguments: exactly the lab's test devices, nothing else on the host.
    static var allowArguments: [String] {
        [edu, e1000e, e1000, nvme].flatMap { ["--allow", $0] }
    }
}

/// The lab's devices as one vfiod's inventory shows them.
struct LabInventory {
    let devices: [JSONObject]
    let groups: [JSONObject]

    /// Reads `GET /v1/devices` and `GET /v1/groups`.
    init(_ api: APIClient) throws {
        devices = try api.list("/v1/devices")
        groups = try api.list("/v1/groups")
    }

    /// Every device with `id` (`vendor:device`), in address order.
    func devices(id: String) -> [JSONObject] {
        devices.filter { "\($0.string("vendorId")):\($0.string("deviceId"))" == id }
            .sorted { $0.string("address") < $1.string("address") }
    }

    /// The group with `id`.
    func group(_ id: Int) -> JSONObject? { groups.first { $0.int("id") == id } }

    /// The members of the device's group (empty without one).
    func groupMembers(of device: JSONObject) -> [String] {
        guard let id = device.int("iommuGroup"), let group = group(id) else { return [] }
        return group["devices"] as? [String] ?? []
    }

    /// The one device with `id` whose group holds only it.
    func alone(_ id: String) throws -> JSONObject {
        let found = devices(id: id).filter { groupMembers(of: $0).count == 1 }
        try check(found.count == 1, "expected one \(id) alone in its IOMMU group, found \(found.count) (\(devices(id: id).map { $0.string("address") }))")
        return found[0]
    }

    /// The one device with `id` that shares its group with others.
    func shared(_ id: String) throws -> JSONObject {
        let found = devices(id: id).filter { groupMembers(of: $0).count > 1 }
        try check(found.count == 1, "expected one \(id) in a shared IOMMU group, found \(found.count)")
        return found[0]
    }

    /// The device at `address`.
    func device(_ address: String) -> JSONObject? { devices.first { $0.string("address") == address } }
}

extension Dictionary where Key == String, Value == Any {
    /// A string member, `""` when absent or not a string.
    func string(_ key: String) -> String { self[key] as? String ?? "" }
    /// An integer member.
    func int(_ key: String) -> Int? { self[key] as? Int }
    /// A string member that may be JSON `null`: `nil` then.
    func optionalString(_ key: String) -> String? { self[key] as? String }
}
