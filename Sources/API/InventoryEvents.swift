import EventStream
import Inventory
import Foundation
import Store
import VFIOCore

/// The inventory's events: what changed between two encoded snapshots, found by comparing the bytes
/// each device and group is served as (`device.changed`, `group.changed`), and `inventory.rescanned`.
enum InventoryEvents {
    /// The events from `previous` to `next`. `owner` gives a live assignment's tenant (an operator of
    /// another tenant gets the device with `assignmentId` `null`).
    static func drafts(from previous: EncodedInventory?, to next: EncodedInventory, fullScan: Bool,
                       owner: (String) -> String?) -> [EventDraft] {
        var drafts: [EventDraft] = []
        let snapshot = next.snapshot
        if let previous {
            let old = previous.snapshot
            // Derived from `previous` (``EncodedInventory/init(snapshot:hostRoot:previous:)`` reused every
            // other body): only the listed positions can differ.
            let changes = snapshot.changes(since: old)
            for index in changes?.devices ?? Array(snapshot.devices.indices) {
                let before = changes != nil ? previous.devices[index]
                    : old.deviceIndex(of: snapshot.devices[index].address).map { previous.devices[$0] }
                guard changed(before, next.devices[index]) else { continue }
                drafts.append(deviceChanged(next, index, owner: owner))
            }
            for index in changes?.groups ?? Array(snapshot.groups.indices) {
                let group = snapshot.groups[index]
                let before = changes != nil ? previous.groups[index] : old.groupIndex(of: group.id).map { previous.groups[$0] }
                guard changed(before, next.groups[index]) else { continue }
                let keys = EventKeys(devices: group.devices.map(\.description), group: group.id)
                drafts.append(EventDraft(type: EventTypes.groupChanged, data: next.groups[index].bytes, keys: keys,
                                         audience: .everyone(assignment: nil, owner: nil, redacted: nil)))
            }
        }
        if fullScan || previous == nil || !drafts.isEmpty {
            drafts.append(rescanned(snapshot, fullScan: fullScan, changed: drafts))
        }
        return drafts
    }

    private static func changed(_ before: EncodedBody?, _ after: EncodedBody) -> Bool {
        guard let before else { return true }
        return before !== after && before.bytes != after.bytes
    }

    private static func deviceChanged(_ encoded: EncodedInventory, _ index: Int, owner: (String) -> String?) -> EventDraft {
        let device = encoded.snapshot.devices[index]
        let keys = EventKeys(devices: [device.address.description], group: device.facts.iommuGroup, assignment: device.assignmentID)
        let audience: EventAudience = device.assignmentID.map {
            .everyone(assignment: $0, owner: owner($0), redacted: encoded.redactedDevice(index).bytes)
        } ?? .everyone(assignment: nil, owner: nil, redacted: nil)
        return EventDraft(type: EventTypes.deviceChanged, data: encoded.devices[index].bytes, keys: keys, audience: audience)
    }

    private static func rescanned(_ snapshot: InventorySnapshot, fullScan: Bool, changed: [EventDraft]) -> EventDraft {
        var json = JSONWriter()
        json.beginObject()
        json.key("generation"); json.int(snapshot.generation)
        json.key("takenAt"); json.string(Timestamp.format(snapshot.takenAt))
        json.key("scanDurationMs"); json.int(Int((snapshot.scanDuration * 1000).rounded()))
        json.key("full"); json.bool(fullScan)
        json.key("devices"); json.int(snapshot.devices.count)
        json.key("groups"); json.int(snapshot.groups.count)
        json.key("devicesChanged"); json.int(changed.filter { $0.type == EventTypes.deviceChanged }.count)
        json.key("groupsChanged"); json.int(changed.filter { $0.type == EventTypes.groupChanged }.count)
        json.endObject()
        return EventDraft(type: EventTypes.inventoryRescanned, data: json.bytes,
                          audience: .everyone(assignment: nil, owner: nil, redacted: nil))
    }
}
