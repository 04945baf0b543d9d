import Foundation
import Store
import VFIOCore

/// What `recover()` found and did.
public struct RecoveryReport: Sendable, Hashable {
    /// Operations finished from the kernel state a dead vfiod left.
    public var completed: [String] = []
    /// Operations undone.
    public var rolledBack: [String] = []
    /// Queued operations run now.
    public var resumed: [String] = []
    /// Leases found broken after a reboot.
    public var lost: [String] = []
    /// The boot id changed since the last run.
    public var rebooted = false

    /// An empty report.
    public init() {}
}

extension AssignmentService {
    /// Before serving: re-verifies assignments if the host rebooted, rolls every interrupted operation forward
    /// or back from the real kernel state (journaled and audited), runs queued ones, and loads the live
    /// assignments. Runs on the calling thread (startup), which may block in the kernel.
    public func recover() throws -> RecoveryReport {
        var report = RecoveryReport()
        try reverifyAfterReboot(&report)
        // Quarantines first: a release resolved below must leave quarantined devices where they are.
        quarantines.load(try database.read { try QuarantineRecords.all(in: $0) })
        let unfinished = try database.read { try OperationRecords.unfinished(in: $0) }
        for operation in unfinished {
            if operation.state == .queued, let (_, assignment) = try load(operation.id), hasBegun(operation, assignment) {
                // A bind or release commits `running` with its end: one that made writes before vfiod
                // stopped may still read `queued`. The kernel's state says it began: resolved as interrupted.
                try resolveInterrupted(operation, &report)
            } else if operation.state == .queued && operation.kind == .release {
                // A release waits for its openers: its workflow runs in the background, not at startup.
                if let (_, assignment) = try load(operation.id), releasesStarted.insert(operation.id) {
                    startCooperativeRelease(operation, assignment)
                }
                report.resumed.append(operation.id)
            } else if operation.state == .queued && (operation.kind == .reset || operation.kind == .restore) {
                // Asked for before vfiod stopped and never begun: not run later, unasked. The admin asks again.
                if let (_, assignment) = try load(operation.id) {
                    try endOperation(operation, assignment, error: "not run: vfiod restarted before a worker took it",
                                     detail: operation.detail)
                }
                report.rolledBack.append(operation.id)
            } else if operation.state == .queued {
                run(operationID: operation.id)
                report.resumed.append(operation.id)
            } else {
                try resolveInterrupted(operation, &report)
            }
        }
        let liveAssignments = try database.read { try AssignmentRecords.live(in: $0) }
        for assignment in liveAssignments { published(assignment) }
        return report
    }

    /// A reset cut short leaves its device in a state nobody knows: it is quarantined (on vfio-pci, where
    /// it is). A restore cut short leaves the quarantine in place: the admin clears it again. Either way the
    /// operation failed.
    func resolveInterruptedDeviceOperation(_ operation: GroupOperation, _ assignment: Assignment, cause: String = "vfiod stopped") throws {
        let reason = "\(cause) during the \(operation.kind.rawValue)"
        if operation.kind == .reset, let target = operation.target.flatMap(PCIAddress.init) {
            let endpoints = Set(assignment.endpoints.compactMap { PCIAddress($0.address) })
            let scope = ResetPlanner.plan(target, method: operation.detail.resetMethod.flatMap(ResetMethod.init(rawValue:)),
                                          in: (try? kernel.scan()) ?? HostScan(host: HostFacts(), devices: [], groups: [:], notes: []))  // before the first snapshot
                .scope.filter(endpoints.contains)
            try quarantine(scope.isEmpty ? [target] : scope, reason: reason + "; its outcome is unknown",
                           assignment: assignment, operation: operation)
        }
        try endOperation(operation, assignment, error: reason + (operation.kind == .restore ? "; the device stays quarantined" : ""),
                         detail: operation.detail)
    }

    private func reverifyAfterReboot(_ report: inout RecoveryReport) throws {
        guard let bootID = kernel.bootID() else { return }
        let stored = try database.read { connection in
            try connection.query("SELECT value FROM host_state WHERE name = 'boot_id'") { $0.string(0) }.first
        }
        guard let stored, stored != bootID else { return try remember(bootID: bootID) }
        report.rebooted = true
        let active = try database.read { try AssignmentRecords.active(in: $0) }
        for assignment in active {
            // Each endpoint's driver, read once and before the transaction (whose body runs on the committer).
            let off = assignment.endpoints.compactMap { device -> (address: String, driver: String?)? in
                let driver = PCIAddress(device.address).flatMap { kernel.driver(of: $0) }
                return driver == GroupBinder.vfio ? nil : (device.address, driver)
            }
            let at = now()
            try database.write { connection in
                var updated = assignment
                if off.isEmpty {
                    try Audit.assignment("assignment.reverified", assignment, caller: .system, before: assignment.state,
                                         detail: "host rebooted (boot id \(stored) → \(bootID)); still on vfio-pci", in: connection)
                    return
                }
                updated.state = .lost
                updated.failure = "host rebooted (boot id \(stored) → \(bootID)); "
                    + off.map { "\($0.address) on \($0.driver ?? "none")" }.joined(separator: ", ")
                updated.generation += 1
                updated.updatedAt = at
                try AssignmentRecords.update(updated, in: connection)
                try Audit.assignment("assignment.lost", updated, caller: .system, before: assignment.state,
                                     detail: "re-verified after a reboot", in: connection)
            }
            if !off.isEmpty { report.lost.append(assignment.id) }
        }
        try remember(bootID: bootID)
    }

    private func remember(bootID: String) throws {
        try database.write { connection in
            try connection.run("INSERT INTO host_state (name, value) VALUES ('boot_id', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                               .text(bootID))
        }
    }
}
