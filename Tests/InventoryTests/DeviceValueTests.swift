import Testing
import Inventory
import VFIOCore

/// Device and IOMMUGroup keep their fields in a shared box: they must still behave as plain values.
struct DeviceValueTests {
    private func device(reason: String = "allowed by all; on e1000e") -> Device {
        let facts = PCIDeviceFacts(address: PCIAddress("0000:03:00.0")!, vendorID: 0x8086, deviceID: 0x10d3,
                                   classCode: 0x020000, sysfsPath: "/sys/devices/pci0000:00/0000:03:00.0")
        return Device(facts: facts, vendorName: "Intel", deviceName: nil, className: "Ethernet controller",
                      state: .available, stateReason: reason, vfioGroupPresent: false)
    }

    @Test func aSetFieldChangesOnlyThatCopy() {
        let original = device()
        var copy = original
        copy.state = .assigned
        copy.assignmentID = "asg_1"
        #expect(original.state == .available)
        #expect(original.assignmentID == nil)
        #expect(copy.state == .assigned)
        #expect(copy != original)
        copy.state = .available
        copy.assignmentID = nil
        #expect(copy == original)
        #expect(copy.hashValue == original.hashValue)
    }

    @Test func devicesBuiltApartAreEqualByTheirFields() {
        #expect(device() == device())
        #expect(device() != device(reason: "not in the allowlist"))
        #expect(Set([device(), device()]).count == 1)
    }

    @Test func groupsAreValuesToo() {
        let group = IOMMUGroup(id: 4, devices: [PCIAddress("0000:03:00.0")!], viable: true, blockers: [], assignable: true,
                               assignableReason: nil, vfioGroupPresent: false)
        var changed = group
        changed.vfioGroupPresent = true
        #expect(!group.vfioGroupPresent)
        #expect(changed != group)
        changed.vfioGroupPresent = false
        #expect(changed == group)
    }

    @Test func printingShowsTheFields() {
        let text = String(describing: device())
        #expect(text.hasPrefix("Device("))
        #expect(text.contains("stateReason: \"allowed by all; on e1000e\""))
    }
}
