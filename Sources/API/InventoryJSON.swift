import Inventory
import VFIOCore
import Foundation
import Store

/// The inventory's JSON shapes, as `openapi/openapi.yaml` defines them (`Device`, `Group`, `Host`).
enum InventoryJSON {
    /// The `Device` shape; `showsAssignment: false` writes `assignmentId` as `null` (another tenant's lease,
    /// for an operator).
    static func device(_ device: Device, showsAssignment: Bool = true) -> [UInt8] {
        let (bytes, assignmentValue) = deviceLocatingAssignment(device)
        guard !showsAssignment, let assignmentValue else { return bytes }
        return redacted(bytes, assignmentValue: assignmentValue)
    }

    /// `bytes` (a device as ``deviceLocatingAssignment(_:)`` wrote it) with the `assignmentId` value at
    /// `assignmentValue` written as `null`: byte for byte what `device(_:showsAssignment: false)` writes,
    /// since the value is the member's only part that differs (no comma is written before a key's value).
    static func redacted(_ bytes: [UInt8], assignmentValue: Range<Int>) -> [UInt8] {
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count - assignmentValue.count + 4)
        copy.append(contentsOf: bytes[..<assignmentValue.lowerBound])
        copy.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        copy.append(contentsOf: bytes[assignmentValue.upperBound...])
        return copy
    }

    /// The `Device` shape, and where its `assignmentId` value lies in the bytes when it names one (so a
    /// redacted copy is a splice, not a second encoding).
    static func deviceLocatingAssignment(_ device: Device) -> (bytes: [UInt8], assignmentValue: Range<Int>?) {
        let facts = device.facts
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("address"); json.string(facts.address.description)
        json.key("vendorId"); json.hex(facts.vendorID, width: 4)
        json.key("deviceId"); json.hex(facts.deviceID, width: 4)
        json.key("subsystemVendorId"); json.hex(facts.subsystemVendorID, width: 4)
        json.key("subsystemDeviceId"); json.hex(facts.subsystemDeviceID, width: 4)
        json.key("revision"); json.hex(facts.revision, width: 2)
        json.key("classCode"); json.hex(facts.classCode, width: 6)
        json.key("vendorName"); json.string(device.vendorName)
        json.key("deviceName"); json.string(device.deviceName)
        json.key("className"); json.string(device.className)
        json.key("driver"); json.string(facts.driver)
        json.key("driverOverride"); json.string(facts.driverOverride)
        json.key("iommuGroup"); json.int(facts.iommuGroup)
        json.key("numaNode"); json.int(facts.numaNode)
        json.key("totalVfs"); json.int(facts.totalVFs)
        json.key("numVfs"); json.int(facts.numVFs)
        json.key("physfn"); json.string(facts.physfn?.description)
        json.key("virtfns"); json.strings(facts.virtfns.map(\.description))
        json.key("resetMethods")
        if let methods = facts.resetMethods { json.strings(methods) } else { json.null() }
        json.key("bootVga"); json.bool(facts.bootVGA)
        json.key("isBridge"); json.bool(facts.isBridge)
        json.key("vfioCdev"); json.string(facts.vfioCdev)
        json.key("vfioGroupPresent"); json.bool(device.vfioGroupPresent)
        json.key("serialNumber"); json.string(facts.serialNumber)
        json.key("state"); json.string(device.state.rawValue)
        json.key("stateReason"); json.string(device.stateReason)
        json.key("assignmentId")
        let valueStart = json.bytes.count
        json.string(device.assignmentID)
        let assignmentValue = device.assignmentID == nil ? nil : valueStart..<json.bytes.count
        json.key("notes"); json.strings(facts.notes)
        json.endObject()
        return (json.bytes, assignmentValue)
    }

    static func group(_ group: IOMMUGroup) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.key("id"); json.int(group.id)
        json.key("devices"); json.strings(group.devices.map(\.description))
        json.key("viable"); json.bool(group.viable)
        json.objects("blockers", group.blockers) { json, blocker in
            json.key("device"); json.string(blocker.device.description)
            json.key("driver"); json.string(blocker.driver)
            json.key("reason"); json.string(blocker.reason)
        }
        json.key("assignable"); json.bool(group.assignable)
        json.key("assignableReason"); json.string(group.assignableReason)
        json.key("vfioGroupPresent"); json.bool(group.vfioGroupPresent)
        json.endObject()
        return json.bytes
    }

    static func host(_ snapshot: InventorySnapshot, hostRoot: String) -> [UInt8] {
        let host = snapshot.host
        let counts = snapshot.stateCounts
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("backend"); json.string(snapshot.backend)
        json.key("hostRoot"); json.string(hostRoot)
        json.key("kernelRelease"); json.string(host.kernelRelease)
        json.key("bootId"); json.string(host.bootID)
        json.key("iommuPresent"); json.bool(host.iommuPresent)
        json.key("vfioPciLoaded"); json.bool(host.vfioPCILoaded)
        json.key("vfioContainerPresent"); json.bool(host.vfioContainerPresent)
        json.key("cdevSupported"); json.bool(host.cdevSupported)
        json.key("iommufdPresent"); json.bool(host.iommufdPresent)
        json.key("counts")
        json.beginObject()
        json.key("devices"); json.int(snapshot.devices.count)
        json.key("groups"); json.int(snapshot.groups.count)
        json.key("byState")
        json.beginObject()
        for state in DeviceState.allCases {
            json.key(state.jsonKey); json.int(counts[state] ?? 0)
        }
        json.endObject()
        json.endObject()
        json.key("inventory")
        json.beginObject()
        json.key("generation"); json.int(snapshot.generation)
        json.key("takenAt"); json.string(Timestamp.format(snapshot.takenAt))
        json.key("scanDurationMs"); json.double((snapshot.scanDuration * 1e6).rounded() / 1e3)
        json.endObject()
        json.key("notes"); json.strings(snapshot.notes)
        json.endObject()
        return json.bytes
    }
}

extension DeviceState {
    /// The state's name as a static JSON key.
    var jsonKey: StaticString {
        switch self {
        case .host: "host"
        case .available: "available"
        case .binding: "binding"
        case .assigned: "assigned"
        case .releasing: "releasing"
        case .quarantined: "quarantined"
        case .protected: "protected"
        }
    }
}
