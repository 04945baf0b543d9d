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

    /// Binds every endpoint of `plan` (the assignment whose devices carry the original drivers committed
    /// before this first write: ``AssignmentService/confirmPlan(_:_:journal:)``); on a failure, restores what
    /// it touched (journaled too) and rethrows. Returns the endpoints with the drivers they had before.
    func bind(_ plan: Assignment, journal: Journal) throws -> [AssignmentDevice] {
        var touched: [AssignmentDevice] = []
        do {
            for device in plan.devices where !device.isBridge {
                guard let address = PCIAddress(device.address) else { continue }
                touched.append(device)
                try bindOne(address, original: device.originalDriver, journal: journal)
            }
            try checkGroup(plan.groupID, journal: journal)
            return plan.devices
        } catch {
            var undoFailures: [String] = []
            for device in touched.reversed() {
                do { try restoreOne(device, journal: journal) } catch { undoFailures.append("\(device.address): \(error)") }
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
            do { try restoreOne(device, journal: journal) } catch { firstFailure = firstFailure ?? error }
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
                                        before: current ?? "none",
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
        var current = try journal.write("clear_override", device: address, originalDriver: original, expected: "none",
                                        before: kernel.driver(of: address) ?? "none",
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
                                        before: current ?? "none",
                                        read: { kernel.driver(of: address) }) { () throws(KernelError) in
                try kernel.probe(address)
            }
            if current == nil {
                current = try journal.write("bind", device: address, originalDriver: original, expected: original,
                                            before: "none",
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
