import Foundation
import Inventory
import Store
import VFIOCore

extension AssignmentService {
    /// `resetOnRelease`: after the opener let go and before the devices go back to the host, reset every
    /// endpoint (a hot reset covers its whole scope once). An opener still present is asked by the kernel
    /// first: each endpoint is unbound from vfio-pci (blocking until the opener closes; the kernel relays
    /// its device request meanwhile) and probed straight back to it (`driver_override` still names it),
    /// since only a device on vfio-pci can be reset through VFIO. Returns what failed, or nil; its rows
    /// wait in the journal (the caller commits them before the restore's first write: a reset leaves no
    /// kernel state that says it was done).
    func resetBeforeRestore(_ operation: GroupOperation, _ assignment: Assignment, journal: Journal) throws -> String? {
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        let cdevs = endpoints.compactMap { kernel.vfioCdev(of: $0) }
        do {
            if !kernel.openers(groups: [assignment.groupID], cdevs: cdevs).isEmpty {
                for address in endpoints where kernel.driver(of: address) == GroupBinder.vfio {
                    try journal.write("unbind", device: address, originalDriver: nil, expected: "none", before: GroupBinder.vfio,
                                      after: { [kernel] in kernel.driver(of: address) ?? "none" }) {
                        try kernel.unbind(address, from: GroupBinder.vfio)
                    }
                }
                for address in endpoints where kernel.driver(of: address) == nil {
                    try journal.write("probe", device: address, originalDriver: nil, expected: GroupBinder.vfio, before: "none",
                                      after: { [kernel] in kernel.driver(of: address) ?? "none" }) {
                        try kernel.probe(address)
                    }
                }
            }
        } catch {
            return "\(error)"
        }
        // The snapshot's facts suffice (binds change no topology); before the first one (a release resumed
        // during recovery) the kernel is read.
        guard let scan = inventory.currentIfStarted?.hostScan ?? (try? kernel.scan()) else {
            return "cannot read the PCI topology to plan the reset"
        }
        let members = Set(assignment.devices.map(\.address))
        var covered = Set<PCIAddress>()
        var detail = OperationDetail()
        for address in endpoints where !covered.contains(address) {
            let plan = ResetPlanner.plan(address, method: nil, in: scan)
            guard let method = plan.method else {
                return "\(address) cannot be reset: \(plan.unavailableReason ?? "no reset method")"
            }
            let outside = plan.scope.filter { !members.contains($0.description) }
            guard outside.isEmpty else {
                return "a \(method.rawValue) reset of \(address) would also reset "
                    + outside.map(\.description).joined(separator: ", ") + ", outside this assignment"
            }
            let failure = resetAndVerify(address, method: method, groups: [assignment.groupID], journal: journal, detail: &detail)
            let saved = detail
            // Committed with the operation's next transaction, as every journaled row is.
            journal.record { connection in
                try OperationRecords.updateDetail(operation.id, in: connection) { current in
                    current.resetMethod = saved.resetMethod
                    current.resetPath = saved.resetPath
                    current.kernelScope = saved.kernelScope
                }
            }
            if let failure { return failure }
            covered.formUnion(plan.scope)
        }
        return nil
    }
}
