import Inventory
import Synchronization
import VFIOCore

/// The live assignments (binding, active, releasing) by group, kept in memory so the inventory can mark
/// devices without asking SQLite on every rebuild. Changed only after the database committed.
final class LiveLeases: Sendable {
    private struct Entry {
        var assignmentID: String
        var state: AssignmentState
        var devices: [String]
    }
    private let entries = Mutex<[Int: Entry]>([:])

    func set(_ assignment: Assignment) {
        entries.withLock { entries in
            if assignment.state.isLive {
                entries[assignment.groupID] = Entry(assignmentID: assignment.id, state: assignment.state,
                                                    devices: assignment.devices.map(\.address))
            } else if entries[assignment.groupID]?.assignmentID == assignment.id {
                entries[assignment.groupID] = nil
            }
        }
    }

    /// The live assignment holding `address`, if any.
    func assignment(device address: String) -> (id: String, state: AssignmentState)? {
        entries.withLock { entries in
            entries.values.first { $0.devices.contains(address) }.map { ($0.assignmentID, $0.state) }
        }
    }

    /// The live assignment of `group`, if any.
    func assignment(group: Int) -> (id: String, state: AssignmentState)? {
        entries.withLock { $0[group].map { ($0.assignmentID, $0.state) } }
    }

    /// Device marks for the inventory (bridges included: the whole group is lent).
    var marks: [PCIAddress: LeaseMark] {
        entries.withLock { entries in
            var marks: [PCIAddress: LeaseMark] = [:]
            for entry in entries.values {
                let state: DeviceState = switch entry.state {
                case .binding: .binding
                case .releasing: .releasing
                default: .assigned
                }
                for device in entry.devices {
                    if let address = PCIAddress(device) { marks[address] = LeaseMark(assignmentID: entry.assignmentID, state: state) }
                }
            }
            return marks
        }
    }
}
