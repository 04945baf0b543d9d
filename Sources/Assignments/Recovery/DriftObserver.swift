import Foundation
import Inventory
import ServiceLog
import Store
import Synchronization
import VFIOCore

/// Notices driver changes vfiod did not make: each inventory refresh is compared with the driver vfiod
/// expects every device to have (what it last saw, or what its own binds and releases left), and a
/// difference is audited as `device.driver_changed_outside`, once.
public final class DriftObserver: Sendable {
    /// The driver vfiod expects of every device, as of the snapshot `generation`.
    private struct Expectations {
        var drivers: [PCIAddress: String]
        var generation: UInt64
    }
    private let expected = Mutex<Expectations?>(nil)
    /// Audit rows the database refused, written before the next ones (in order) once it takes writes.
    private let unwritten = Mutex<[AuditEntry]>([])
    private let database: Database

    /// Creates an observer writing to `database`'s audit history.
    public init(database: Database) { self.database = database }

    /// Compares `snapshot` with the expectations; devices inside a bind or release are skipped (their
    /// drivers are moving on purpose) and become the new expectation once it ends.
    ///
    /// A snapshot that says what changed since the one observed last (``InventorySnapshot/changes``)
    /// is checked for those devices only: every other device is the same as in that snapshot, so its
    /// driver is the expected one already.
    public func observe(_ snapshot: InventorySnapshot) {
        let changes: [(Device, String)] = expected.withLock { expected in
            if let delta = snapshot.changes, let generation = expected?.generation, delta.baseGeneration == generation {
                var changes: [(Device, String)] = []
                for index in delta.devices {
                    let device = snapshot.devices[index]
                    let now = device.facts.driver ?? "none"
                    if device.state != .binding && device.state != .releasing, let was = expected?.drivers[device.address],
                       was != now, !Self.isVfiodsOwnChange(device, from: was, to: now) {
                        changes.append((device, was))
                    }
                    expected?.drivers[device.address] = now
                }
                expected?.generation = snapshot.generation
                return changes
            }
            let drivers = Dictionary(uniqueKeysWithValues: snapshot.devices.map { ($0.address, $0.facts.driver ?? "none") })
            let moving = Set(snapshot.devices.filter { $0.state == .binding || $0.state == .releasing }.map(\.address))
            guard let previous = expected?.drivers else {
                expected = Expectations(drivers: drivers, generation: snapshot.generation)
                return []
            }
            var changes: [(Device, String)] = []
            for device in snapshot.devices where !moving.contains(device.address) {
                let now = drivers[device.address] ?? "none"
                if let was = previous[device.address], was != now, !Self.isVfiodsOwnChange(device, from: was, to: now) {
                    changes.append((device, was))
                }
            }
            expected = Expectations(drivers: drivers, generation: snapshot.generation)
            return changes
        }
        let entries = changes.map { device, was in
            AuditEntry(
                actor: "system", action: "device.driver_changed_outside", device: device.address.description,
                group: device.facts.iommuGroup, assignment: device.assignmentID, before: ["driver": was],
                after: ["driver": device.facts.driver ?? "none"],
                detail: device.assignmentID.map { "leased device left vfio-pci outside vfiod (assignment \($0))" }
                    ?? "driver changed outside vfiod")
        }
        record(entries)
    }

    /// Appends `entries` after any the database refused before; what it refuses now is kept for the next
    /// try (each refresh), logged, never dropped.
    private func record(_ entries: [AuditEntry]) {
        unwritten.withLock { pending in
            pending += entries
            guard !pending.isEmpty else { return }
            let rows = pending
            do {
                try database.write { connection in
                    for row in rows { _ = try AuditLog.append(row, in: connection) }
                }
                pending.removeAll()
            } catch {
                Log.warning("\(rows.count) device.driver_changed_outside audit row(s) not written yet (retried on the next refresh): \(error)")
            }
        }
    }

    /// A device that vfiod just bound (now assigned on vfio-pci) or gave back (no lease, left vfio-pci).
    private static func isVfiodsOwnChange(_ device: Device, from was: String, to now: String) -> Bool {
        (device.state == .assigned && now == "vfio-pci") || (device.assignmentID == nil && was == "vfio-pci" && device.state != .assigned)
    }
}
