import Inventory
import VFIOCore

/// Page size limits shared by every list.
enum Paging {
    static let defaultSize = 1000
    static let maxSize = 10_000

    static func size(_ text: String?) throws(APIError) -> Int {
        guard let text else { return defaultSize }
        guard let size = Int(text), size >= 1, size <= maxSize else {
            throw .invalidParameter("pageSize", "must be a whole number from 1 to \(maxSize), got \"\(text.prefix(32))\"")
        }
        return size
    }
}

/// Query parameters, checked against the names a route accepts; a name given twice is refused too.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ pairs: [(name: String, value: String)], allowed: [String]) throws(APIError) {
        for (name, value) in pairs {
            guard allowed.contains(name) else { throw .unknownParameter(name, allowed: allowed) }
            guard values[name] == nil else { throw .invalidParameter(name, "given more than once") }
            values[name] = value
        }
    }

    subscript(name: String) -> String? { values[name] }
}

/// The filters of `GET /v1/devices`.
struct DeviceFilter {
    static let parameters = ["vendorId", "classCode", "driver", "iommuGroup", "state", "pageSize", "pageToken"]

    var vendorID: UInt16?
    var classPrefix: AllowSpec?
    var driver: String?
    var iommuGroup: Int?
    var state: DeviceState?

    init(_ query: QueryParameters) throws(APIError) {
        if let text = query["vendorId"] {
            guard text.utf8.count == 4, let value = UInt16(text, radix: 16) else {
                throw .invalidParameter("vendorId", "must be 4 hex digits such as 10de")
            }
            vendorID = value
        }
        if let text = query["classCode"] {
            guard let spec = try? AllowSpec(parsing: "class:" + text), case .classPrefix = spec else {
                throw .invalidParameter("classCode", "must be 2, 4 or 6 hex digits such as 03, 0200 or 010802")
            }
            classPrefix = spec
        }
        if let text = query["driver"] {
            guard !text.isEmpty, text.utf8.count <= 64 else {
                throw .invalidParameter("driver", "must be a driver name, or none for unbound devices")
            }
            driver = text
        }
        if let text = query["iommuGroup"] {
            guard let value = Int(text), value >= 0 else {
                throw .invalidParameter("iommuGroup", "must be a group number")
            }
            iommuGroup = value
        }
        if let text = query["state"] {
            guard let value = DeviceState(rawValue: text) else {
                throw .invalidParameter("state", "must be one of " + DeviceState.allCases.map(\.rawValue).joined(separator: ", "))
            }
            state = value
        }
    }

    /// A canonical spelling of the filters, for page tokens and the page cache.
    var key: String {
        [vendorID.map { "v=" + Hex.pad($0, 4) }, classPrefix.map { "c=\($0)" }, driver.map { "d=" + $0 },
         iommuGroup.map { "g=\($0)" }, state.map { "s=" + $0.rawValue }]
            .compactMap { $0 }.joined(separator: ",")
    }

    func matches(_ device: Device) -> Bool {
        if let vendorID, device.facts.vendorID != vendorID { return false }
        if let classPrefix, !classPrefix.admits(device.facts) { return false }
        if let driver, (device.facts.driver ?? "none") != driver { return false }
        if let iommuGroup, device.facts.iommuGroup != iommuGroup { return false }
        if let state, device.state != state { return false }
        return true
    }
}

/// The filters of `GET /v1/groups`.
struct GroupFilter {
    static let parameters = ["viable", "assignable", "pageSize", "pageToken"]

    var viable: Bool?
    var assignable: Bool?

    init(_ query: QueryParameters) throws(APIError) {
        viable = try Self.bool(query, "viable")
        assignable = try Self.bool(query, "assignable")
    }

    private static func bool(_ query: QueryParameters, _ name: String) throws(APIError) -> Bool? {
        guard let text = query[name] else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidParameter(name, "must be true or false")
        }
    }

    var key: String {
        [viable.map { "v=\($0)" }, assignable.map { "a=\($0)" }].compactMap { $0 }.joined(separator: ",")
    }

    func matches(_ group: IOMMUGroup) -> Bool {
        if let viable, group.viable != viable { return false }
        if let assignable, group.assignable != assignable { return false }
        return true
    }
}
