import Foundation
import Inventory
import VFIOCore

/// Takes a group's endpoints to vfio-pci and gives them back, the deterministic way: `driver_override`,
/// unbind, `drivers_probe`, then check the `driver` link. Never `new_id`. Bridges are left alone.
///
/// Runs on a worker thread: every call here may block in the kernel.
struct GroupBinder {
    static let vfio = "vfio-pci"
    let kernel: any HostKernel

    /// Binds every endpoint; on a failure, restores what it touched (journaled too) and rethrows.
    /// Returns the endpoints with the drivers they had before.
    func bind(_ assignment: Assignment, journal: Journal) throws -> [AssignmentDevice] {
        var devices = assignment.devices
        var touched: [AssignmentDevice] = []
        do {
            for index in devices.indices where !devices[index].isBridge {
                guard let address = PCIAddress(devices[index].address) else { continue }
                let original = kernel.driver(of: address)
                devices[index].originalDriver = original
                touched.append(devices[index])
                try bindOne(address, original: original, journal: journal)
            }
            try checkGroup(assignment.groupID, journal: journal)
            return devices
        } catch let unwritable as Journal.Unwritable {
            // Every device is on a driver (a write out of a driverless state is made all the same): the
            // operation stops here and is resolved from the kernel's state once the journal takes writes.
            throw unwritable
        } catch {
            var undoFailures: [String] = []
            for device in touched.reversed() {
                do { try restoreOne(device, journal: journal) } catch let unwritable as Journal.Unwritable {
                    throw unwritable
                } catch { undoFailures.append("\(device.address): \(error)") }
            }
            guard undoFailures.isEmpty else { throw UndoFailed(failure: error, undo: undoFailures) }
            throw error
        }
    }

    /// A bind failed, and giving some devices back failed too.
    struct UndoFailed: Error, CustomStringConvertible {
        let failure: Error
        let undo: [String]
        var description: String { "\(failure); undoing it failed too: " + undo.joined(separator: "; ") }
    }

    /// Gives every endpoint back to its original driver (or none). Keeps going past a failed device so
    /// every other device is restored; throws the first failure at the end.
    func restore(_ devices: [AssignmentDevice], journal: Journal) throws {
        var firstFailure: Error?
        for device in devices.reversed() where !device.isBridge {
            do { try restoreOne(device, journal: journal) } catch let unwritable as Journal.Unwritable {
                throw unwritable
            } catch { firstFailure = firstFailure ?? error }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Each write's `after` reads the driver link once; the next decision and the final check use that
    /// reading rather than the link again.
    private func bindOne(_ address: PCIAddress, original: String?, journal: Journal) throws {
        try journal.write("set_override", device: address, originalDriver: original, expected: Self.vfio,
                          before: original ?? "none", after: { original ?? "none" }) { () throws(KernelError) in
            try kernel.setDriverOverride(address, to: Self.vfio)
        }
        var current = original
        if let original, original != Self.vfio {
            current = try journal.write("unbind", device: address, originalDriver: original, expected: "none",
                                        before: original, read: { kernel.driver(of: address) }) { () throws(KernelError) in
                try kernel.unbind(address, from: original)
            }
        }
        if current != Self.vfio {
            current = try journal.write("probe", device: address, originalDriver: original, expected: Self.vfio,
                                        before: current ?? "none", leavesDriverless: original != nil,
                                        read: { kernel.driver(of: address) }) { () throws(KernelError) in
                try kernel.probe(address)
            }
        }
        let found = current
        try journal.check("verify_driver", device: address, expected: Self.vfio) {
            (found == Self.vfio, found ?? "none")
        }
    }

    private func checkGroup(_ group: Int, journal: Journal) throws {
        try journal.check("verify_group", device: nil, expected: "/dev/vfio/\(group) present, group viable") {
            guard kernel.groupDeviceExists(group) else { return (false, "no /dev/vfio/\(group)") }
            let blockers = kernel.groupMembers(group).compactMap { member -> String? in
                let driver = kernel.driver(of: member)
                return Viability.isSafe(driver: driver) ? nil : "\(member) on \(driver ?? "none")"
            }
            return (blockers.isEmpty, blockers.isEmpty ? "viable" : "not viable: " + blockers.joined(separator: ", "))
        }
    }

    private func restoreOne(_ device: AssignmentDevice, journal: Journal) throws {
        guard let address = PCIAddress(device.address) else { return }
        let original = device.originalDriver
        // A device this operation left without a driver (a bind that failed after its unbind) is given one
        // even when the journal cannot record it first.
        let stranded = original != nil && kernel.driver(of: address) == nil
        var current = try journal.write("clear_override", device: address, originalDriver: original, expected: "none",
                                        before: kernel.driver(of: address) ?? "none", leavesDriverless: stranded,
                                        read: { kernel.driver(of: address) }) { () throws(KernelError) in
            try kernel.setDriverOverride(address, to: nil)
        }
        if original == Self.vfio { return }
        if let bound = current, bound != original {
            current = try journal.write("unbind", device: address, originalDriver: original, expected: "none",
                                        before: bound, read: { kernel.driver(of: address) }) { () throws(KernelError) in
                try kernel.unbind(address, from: bound)
            }
        }
        if let original, current != original {
            current = try journal.write("probe", device: address, originalDriver: original, expected: original,
                                        before: current ?? "none", leavesDriverless: true,
                                        read: { kernel.driver(of: address) }) { () throws(KernelError) in
                try kernel.probe(address)
            }
            if current == nil {
                current = try journal.write("bind", device: address, originalDriver: original, expected: original,
                                            before: "none", leavesDriverless: true,
                                            read: { kernel.driver(of: address) }) { () throws(KernelError) in
                    try kernel.bind(address, to: original)
                }
            }
        }
        let found = current
        try journal.check("verify_driver", device: address, expected: original ?? "none") {
            (found == original, found ?? "none")
        }
    }
}
