import Foundation
import Store

/// A synthetic audit history for the audit benchmark: lifecycles shaped as the lease run's (copied from
/// its database when given, else a 12-row lease lifecycle as vfiod writes it), spread over 128 groups,
/// 64 holders and 4 tenants, a rare `assignment.expired` (half of them in the old spelling `lease.expired`)
/// and token rows; lifecycles 40 ms apart.
struct AuditHistory {
    /// One lifecycle's rows, as entries whose assignment, holder and tenant each copy replaces.
    let lifecycle: [AuditEntry]
    /// The start of the history.
    static let start = Date(timeIntervalSince1970: 1_767_225_600) // 2026-01-01T00:00:00Z

    init(source: String?) throws {
        if let source, FileManager.default.fileExists(atPath: source) {
            let database = try Database(path: source)
            let id = try database.read { connection in
                try connection.query("SELECT id FROM assignments WHERE state = 'released' ORDER BY id LIMIT 1") { $0.string(0) }.first
            }
            let copied = try id.map { try AuditLog.list(AuditQuery(assignment: $0), in: database).map(\.entry) } ?? []
            if !copied.isEmpty {
                lifecycle = copied
                return
            }
        }
        lifecycle = Self.synthetic
    }

    /// A lease lifecycle of one device: created, the bind's steps, active, release requested, the
    /// release's steps, released.
    static let synthetic: [AuditEntry] = {
        let device = "0000:41:00.0"
        func entry(_ action: String, device: String? = nil, before: [String: String]? = nil,
                   after: [String: String]? = nil, detail: String? = nil) -> AuditEntry {
            AuditEntry(actor: "ops", requestID: "req-1", action: action, device: device, group: 0, assignment: "a",
                       holder: "h", tenant: "t", before: before, after: after, detail: detail)
        }
        return [
            entry("assignment.created", after: ["state": "binding"]),
            entry("operation.started", detail: "bind op-1"),
            entry("operation.step", device: device, before: ["driver_override": ""], after: ["driver_override": "vfio-pci"], detail: "bind op-1 set_override"),
            entry("operation.step", device: device, before: ["driver": "e1000e"], after: ["driver": "none"], detail: "bind op-1 unbind"),
            entry("operation.step", device: device, before: ["driver": "none"], after: ["driver": "vfio-pci"], detail: "bind op-1 probe"),
            entry("assignment.active", before: ["state": "binding"], after: ["state": "active"]),
            entry("assignment.release_requested", before: ["state": "active"], after: ["state": "releasing"]),
            entry("operation.step", device: device, before: ["driver": "vfio-pci"], after: ["driver": "none"], detail: "release op-2 unbind"),
            entry("operation.step", device: device, before: ["driver_override": "vfio-pci"], after: ["driver_override": ""], detail: "release op-2 clear_override"),
            entry("operation.step", device: device, before: ["driver": "none"], after: ["driver": "e1000e"], detail: "release op-2 probe"),
            entry("operation.succeeded", detail: "release op-2"),
            entry("assignment.released", before: ["state": "releasing"], after: ["state": "released"]),
        ]
    }()

    /// Appends lifecycles to `database` until it holds `rows` rows, 100 lifecycles per transaction.
    func fill(_ database: Database, rows: Int) throws {
        var copy = 0
        var written = 0
        while written < rows {
            try database.write { connection in
                for _ in 0..<100 where written < rows {
                    for entry in entries(copy) where written < rows {
                        try AuditLog.append(entry, in: connection)
                        written += 1
                    }
                    copy += 1
                }
            }
        }
    }

    /// The rows of copy `copy`.
    func entries(_ copy: Int) -> [AuditEntry] {
        let group = 100 + copy % 128
        var result = lifecycle.enumerated().map { index, template in
            var entry = template
            entry.time = Self.time(copy: copy, row: index)
            entry.group = template.group.map { _ in group }
            entry.device = template.device.map { _ in Self.device(group: group) }
            entry.assignment = template.assignment.map { _ in "asg-\(copy)" }
            entry.holder = template.holder.map { _ in "vm-\(copy % 64)" }
            entry.tenant = template.tenant.map { _ in "tenant-\(copy % 4)" }
            return entry
        }
        if copy % 997 == 0 {
            var expired = result[result.count - 1]
            expired.action = copy % 2 == 0 ? "assignment.expired" : "lease.expired"
            result.append(expired)
        }
        if copy % 501 == 0 {
            result.append(AuditEntry(time: Self.time(copy: copy, row: 20), actor: "admin", action: "token.created",
                                     tenant: "tenant-\(copy % 4)", after: ["name": "t\(copy)", "role": "operator"]))
        }
        return result
    }

    /// The PCI address of the one device of `group` in the history.
    static func device(group: Int) -> String { String(format: "0000:%02x:00.0", group) }

    /// Row `row` of copy `copy`: 40 ms per lifecycle, 2 ms per row.
    static func time(copy: Int, row: Int) -> Date {
        let milliseconds = copy * 40 + row * 2
        return start.addingTimeInterval(Double(milliseconds) / 1000)
    }
}
