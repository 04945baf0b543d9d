import Foundation
import Testing
import TestSupport
import VFIOCore

/// The real machines' trees from the ghw project (see Tests/Fixtures/sysfs-snapshots/README.md).
struct SnapshotScanTests {
    static let expected: [String: (devices: Int, drivers: Int, grouped: Int)] = [
        "linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d": (23, 20, 23),
        "linux-amd64-8581cf3a529e5d8b97ea876eade2f60d": (82, 30, 0),
        "linux-amd64-accel-nvidia": (29, 25, 0),
        "linux-amd64-61797caf7c0b6bca1725ad7975ed4773": (43, 0, 0),
        "linux-arm64-c288e0776090cd558ef793b2a4e61939": (4, 3, 0),
    ]

    @Test func allSnapshotsArePresent() {
        #expect(Set(Fixtures.snapshotNames()) == Set(Self.expected.keys))
    }

    @Test(arguments: Array(expected.keys).sorted())
    func scansWithTheReadmeCounts(_ name: String) throws {
        let root = try Fixtures.unpackSnapshot(name)
        let scan = try SysfsScanner(paths: root.hostPaths).scan()
        let expected = try #require(Self.expected[name])
        #expect(scan.devices.count == expected.devices)
        #expect(scan.devices.filter { $0.driver != nil }.count == expected.drivers)
        #expect(scan.devices.filter { $0.iommuGroup != nil }.count == expected.grouped)
        #expect(scan.devices.allSatisfy { $0.vendorID != 0xffff })
        #expect(!scan.notes.isEmpty)
    }

    @Test func derivesGroupsFromLinksOnTheLaptop() throws {
        let root = try Fixtures.unpackSnapshot("linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d")
        let scan = try SysfsScanner(paths: root.hostPaths).scan()
        #expect(scan.notes.contains("sys/kernel/iommu_groups is missing; groups derived from device links"))
        #expect(scan.groups.values.reduce(0) { $0 + $1.count } == 23)
        #expect(scan.host.iommuPresent)
        // /boot is on nvme0n1p2 (proc/self/mounts only): the NVMe function carries a mounted filesystem.
        let nvme = try #require(scan.devices.first { $0.classCode >> 8 == 0x0108 })
        #expect(nvme.mountedBlockDevices.contains("nvme0n1p2"))
        #expect(scan.notes.contains { $0.contains("proc/self/mounts") })
    }
}
