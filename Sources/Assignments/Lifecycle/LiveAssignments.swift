import Inventory
import Synchronization
import VFIOCore

/// The live assignments (binding, active, releasing) by group, kept in memory so the inventory can mark
/// devices without asking SQLite on every rebuild. Changed only after the database committed.
///
/// The device marks are kept up to date as assignments change, so reading them (every inventory
/// publish does) copies one dictionary instead of rebuilding it from every live assignment.
final class LiveAssignments: Sendable {
    private struct Entry {
        var assignmentID: String
        var tenant: String
        var state: AssignmentState
        var devices: [String]
        /// `devices` parsed (the ones that parse).
        var addresses: [PCIAddress]
    }
    private struct State {
        var entries: [Int: Entry] = [:]
        var marks: [PCIAddress: AssignmentMark] = [:]
        /// Each live assignment's tenant.
        var tenants: [String: String] = [:]
    }
    private let state = Mutex(State())
    /// Rung after every change with the lease's expiry while it is active, for the expiry loop.
    let changes = ExpiryAlarm()

    func set(_ assignment: Assignment) {
        state.withLock { state in
            let old = state.entries[assignment.groupID]
            if assignment.state.isLive {
                let devices = assignment.devices.map(\.address)
                let entry = Entry(assignmentID: assignment.id, tenant: assignment.holder.tenant, state: assignment.state,
                                  devices: devices, addresses: devices.compactMap { PCIAddress($0) })
                state.entries[assignment.groupID] = entry
                if let old, old.assignmentID != entry.assignmentID { state.tenants[old.assignmentID] = nil }
                state.tenants[entry.assignmentID] = entry.tenant
                Self.replaceMarks(of: old, with: entry, in: &state)
            } else if old?.assignmentID == assignment.id {
                state.entries[assignment.groupID] = nil
                state.tenants[assignment.id] = nil
                Self.replaceMarks(of: old, with: nil, in: &state)
            }
        }
        changes.ring(expiresAt: assignment.state == .active ? assignment.expiresAt : nil)
    }

    /// The live assignment holding `address`, if any.
    func assignment(device address: String) -> (id: String, state: AssignmentState)? {
        state.withLock { state in
            state.entries.values.first { $0.devices.contains(address) }.map { ($0.assignmentID, $0.state) }
        }
    }

    /// The live assignment of `group`, if any.
    func assignment(group: Int) -> (id: String, state: AssignmentState)? {
        state.withLock { $0.entries[group].map { ($0.assignmentID, $0.state) } }
    }

    /// Each live assignment's tenant, by assignment id.
    var tenants: [String: String] {
        state.withLock { $0.tenants }
    }

    /// Device marks for the inventory (bridges included: the whole group is lent).
    var marks: [PCIAddress: AssignmentMark] {
        state.withLock { $0.marks }
    }

    /// Drops the marks of `old`'s devices and adds `new`'s. A device is in one group, so in at most one
    /// entry; should two entries ever list it, the mark comes from whichever changed last.
    private static func replaceMarks(of old: Entry?, with new: Entry?, in state: inout State) {
        for address in old?.addresses ?? [] { state.marks[address] = nil }
        guard let new else { return }
        let mark = AssignmentMark(assignmentID: new.assignmentID, state: Self.deviceState(new.state))
        for address in new.addresses { state.marks[address] = mark }
    }

    private static func deviceState(_ state: AssignmentState) -> DeviceState {
        switch state {
        case .binding: .binding
        case .releasing: .releasing
        default: .assigned
        }
    }
}
