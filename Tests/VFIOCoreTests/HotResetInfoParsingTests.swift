import CVFIO
import Testing
@testable import VFIOCore

/// `VFIOHotResetInfo(parsing:)` on buffers laid out by hand as the kernel writes them: a 12-byte header
/// (`argsz`, `flags`, `count`) then 8-byte entries (`group_id`/`devid`, `segment`, `bus`, `devfn`).
struct HotResetInfoParsingTests {
    /// One dependent device as the test writes it.
    struct Entry {
        var id: UInt32
        var segment: UInt16
        var bus: UInt8
        var devfn: UInt8
    }

    /// The bytes of a filled `vfio_pci_hot_reset_info`, host byte order, written field by field.
    static func buffer(flags: UInt32, entries: [Entry], count: UInt32? = nil, extraRoom: Int = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes += $0 } }
        append(UInt32(12 + (entries.count + extraRoom) * 8))
        append(flags)
        append(count ?? UInt32(entries.count))
        for entry in entries {
            append(entry.id)
            append(entry.segment)
            append(entry.bus)
            append(entry.devfn)
        }
        bytes += [UInt8](repeating: 0xee, count: extraRoom * 8)
        return bytes
    }

    static let devID = CVFIO_PCI_HOT_RESET_FLAG_DEV_ID
    static let devIDOwned = CVFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED

    @Test func oneDeviceInAGroup() throws {
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: [Entry(id: 14, segment: 0, bus: 0x41, devfn: 0x00)]))
        #expect(!info.usesDeviceIDs)
        #expect(!info.allOwned)
        #expect(info.devices == [VFIOHotResetDependent(address: PCIAddress("0000:41:00.0")!, owner: .group(14))])
    }

    @Test func twoFunctionsOfOneSlotUnpackDevfn() throws {
        // devfn 0x09 is slot 1 function 1; 0xff is slot 31 function 7 (the largest devfn).
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: [
            Entry(id: 3, segment: 0x0001, bus: 0x02, devfn: 0x09),
            Entry(id: 4, segment: 0xffff, bus: 0xff, devfn: 0xff),
        ]))
        #expect(info.devices.map(\.address) == [PCIAddress("0001:02:01.1")!, PCIAddress("ffff:ff:1f.7")!])
        #expect(info.devices.map(\.owner) == [.group(3), .group(4)])
    }

    @Test func manyDevicesKeepTheKernelsOrder() throws {
        var entries: [Entry] = []
        for index in 0..<64 {
            let group = UInt32(100 + index / 8)
            entries.append(Entry(id: group, segment: 0, bus: 0x80, devfn: UInt8(63 - index)))
        }
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: entries))
        #expect(info.devices.count == 64)
        #expect(info.devices.first?.address == PCIAddress("0000:80:07.7")!)
        #expect(info.devices.last?.address == PCIAddress("0000:80:00.0")!)
        let groups: [VFIOHotResetDependent.Owner] = (100..<108).map { (id: UInt32) in .group(id) }
        let owners: [VFIOHotResetDependent.Owner] = info.devices.map { $0.owner }
        #expect(Set(owners) == Set(groups))
    }

    @Test func deviceIDFormAllOwned() throws {
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: Self.devID | Self.devIDOwned, entries: [
            Entry(id: 1, segment: 0, bus: 3, devfn: 0),
            Entry(id: UInt32(bitPattern: CVFIO_PCI_DEVID_OWNED), segment: 0, bus: 3, devfn: 1),
        ]))
        #expect(info.usesDeviceIDs)
        #expect(info.allOwned)
        #expect(info.devices.map(\.owner) == [.device(id: 1), .ownedUnbound])
    }

    @Test func deviceIDFormWithAnUnownedNeighbour() throws {
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: Self.devID, entries: [
            Entry(id: 7, segment: 0, bus: 5, devfn: 0),
            Entry(id: UInt32(bitPattern: CVFIO_PCI_DEVID_NOT_OWNED), segment: 0, bus: 5, devfn: 1),
        ]))
        #expect(info.usesDeviceIDs)
        #expect(!info.allOwned)
        #expect(info.devices.map(\.owner) == [.device(id: 7), .notOwned])
    }

    @Test func groupZeroIsAGroupWithoutTheDevIDFlag() throws {
        // The same bytes mean "owned, unbound" only under DEV_ID; without it 0 is group 0.
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: [Entry(id: 0, segment: 0, bus: 0, devfn: 8)]))
        #expect(info.devices.map(\.owner) == [.group(0)])
    }

    @Test func roomBeyondCountIsIgnored() throws {
        let info = try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: [Entry(id: 9, segment: 0, bus: 1, devfn: 0)], extraRoom: 3))
        #expect(info.devices.count == 1)
    }

    @Test func zeroDevices() throws {
        #expect(try VFIOHotResetInfo(parsing: Self.buffer(flags: 0, entries: [])).devices.isEmpty)
    }

    @Test func truncatedBuffersAreRefused() throws {
        #expect(throws: VFIOHotResetInfo.ParseError.truncatedHeader(length: 8)) {
            try VFIOHotResetInfo(parsing: [UInt8](repeating: 0, count: 8))
        }
        // The header claims three entries, the buffer holds one (what ENOSPC leaves behind).
        let short = Self.buffer(flags: 0, entries: [Entry(id: 1, segment: 0, bus: 1, devfn: 0)], count: 3)
        #expect(throws: VFIOHotResetInfo.ParseError.truncatedEntries(count: 3, length: 20)) {
            try VFIOHotResetInfo(parsing: short)
        }
        #expect(try VFIOHotResetInfo.count(inHeader: short) == 3)
    }
}
