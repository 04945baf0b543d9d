import Foundation
import Store
import VFIOCore

/// An operation's plan — which devices, each one's original driver — is committed before its first kernel
/// write; the kernel's own state is then the record of how far it got.
extension AssignmentService {
    /// The bind's plan, checked against the kernel just before its first write. Each endpoint's original
    /// driver was committed with the assignment (the snapshot's) or by an older vfiod in its step rows; when
    /// the kernel now says otherwise (a driver changed between the snapshot and the worker: rare), the
    /// amended plan is committed first — the assignment's devices, audited — so that recovery gives every
    /// device back the driver it really had. Throws `Journal.Unwritable` (before any write) when refused.
    func confirmPlan(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws -> Assignment {
        var plan = assignment
        plan.devices = Self.originalDrivers(of: assignment.devices, recordedIn: operation)
        var changes: [(address: String, planned: String?, found: String?)] = []
        for index in plan.devices.indices where !plan.devices[index].isBridge {
            guard let address = PCIAddress(plan.devices[index].address) else { continue }
            let found = kernel.driver(of: address)
            if found != plan.devices[index].originalDriver {
                changes.append((plan.devices[index].address, plan.devices[index].originalDriver, found))
                plan.devices[index].originalDriver = found
            }
        }
        guard !changes.isEmpty else { return plan }
        let (at, devices, actor) = (now(), plan.devices, operation.actor)
        journal.record { connection in
            guard var current = try AssignmentRecords.get(assignment.id, in: connection) else { throw AssignmentError.notFound(assignment.id) }
            current.devices = devices
            current.generation += 1
            current.updatedAt = at
            try AssignmentRecords.update(current, in: connection)
            for change in changes {
                try Audit.append(action: "operation.step", actor: actor, requestID: operation.requestID, assignment: current,
                                 device: change.address, before: ["driver": change.planned ?? "none"],
                                 after: ["driver": change.found ?? "none"],
                                 detail: "\(operation.kind.rawValue) \(operation.id) plan: the original driver, read again before the first write",
                                 error: nil, at: at, in: connection)
            }
        }
        try journal.flush()
        if let (_, amended) = try load(operation.id) { published(amended) }
        return plan
    }

    /// Whether a bind or release the database still has `queued` made kernel writes before vfiod stopped
    /// (neither commits `running` before its first write): some endpoint is not where the operation
    /// starts from. A bind starts from the plan (each endpoint on its original driver, `driver_override`
    /// not naming vfio-pci: the bind's first write to a device sets it); a release from the lease (each
    /// endpoint not quarantined on vfio-pci, `driver_override` naming it: its first write to a device
    /// clears it). Such an operation is resolved from the kernel's state as an interrupted one is, never
    /// run again from the top: a bind run again would take a half-bound device's state for its original.
    func hasBegun(_ operation: GroupOperation, _ assignment: Assignment) -> Bool {
        let vfio = GroupBinder.vfio
        switch operation.kind {
        case .bind:
            return Self.originalDrivers(of: assignment.endpoints, recordedIn: operation).contains { device in
                guard let address = PCIAddress(device.address) else { return false }
                return kernel.driver(of: address) != device.originalDriver || kernel.driverOverride(of: address) == vfio
            }
        case .release:
            guard assignment.state == .releasing else { return false }
            return assignment.endpoints.contains { device in
                guard let address = PCIAddress(device.address), quarantines.entry(device.address) == nil else { return false }
                return kernel.driver(of: address) != vfio || kernel.driverOverride(of: address) != vfio
            }
        case .reset, .restore:
            // Both commit `running` before their first write: `queued` means never begun.
            return false
        }
    }
}
