import Foundation
import TestSupport
import VFIOCore
import VFIOSimulator

/// A host with the three shapes of group a lease must handle, and the ones it must refuse.
func leaseHost() -> HostSpec {
    var console = FakeSysfs.device("0000:00:02.0", 0x8086, 0xa780, 0x030000, driver: "i915", group: 0)
    console.bootVGA = true
    let single = FakeSysfs.device("0000:05:00.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 10)
    let bridge = FakeSysfs.device("0000:00:1c.0", 0x8086, 0x7ab8, 0x060400, driver: "pcieport", group: 11)
    let nic = FakeSysfs.device("0000:06:00.0", 0x8086, 0x100e, 0x020000, driver: "e1000", group: 11, parent: "0000:00:1c.0")
    let edu = FakeSysfs.device("0000:06:01.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 11, parent: "0000:00:1c.0")
    var pf = FakeSysfs.device("0000:07:00.0", 0x8086, 0x1593, 0x020000, driver: "ice", group: 12)
    pf.sriov = .init(totalVFs: 4, numVFs: 2)
    var vf0 = FakeSysfs.device("0000:07:01.0", 0x8086, 0x1889, 0x020000, driver: "iavf", group: 13)
    vf0.physfn = pf.address
    var vf1 = FakeSysfs.device("0000:07:01.1", 0x8086, 0x1889, 0x020000, driver: "iavf", group: 14)
    vf1.physfn = pf.address
    let outsider = FakeSysfs.device("0000:08:00.0", 0x10ec, 0x8168, 0x020000, driver: "r8169", group: 15)
    return HostSpec(kernelRelease: "6.12.0-lease", devices: [console, single, bridge, nic, edu, pf, vf0, vf1, outsider])
}

/// Every vendor but Realtek: 0000:08:00.0 stays outside the allowlist.
let leaseAllowlist = ["8086:*", "1234:*"]

/// What the tree says about one function: its driver, its driver_override, and its group's /dev/vfio node.
struct TreeState: Equatable, CustomStringConvertible {
    let driver: String?
    let driverOverride: String?
    let groupNode: Bool

    init(_ kernel: any HostKernel, _ address: String) {
        let pci = PCIAddress(address)!
        driver = kernel.driver(of: pci)
        driverOverride = kernel.driverOverride(of: pci)
        groupNode = kernel.iommuGroup(of: pci).map { kernel.groupDeviceExists($0) } ?? false
    }

    init(driver: String?, driverOverride: String?, groupNode: Bool) {
        self.driver = driver
        self.driverOverride = driverOverride
        self.groupNode = groupNode
    }

    var description: String { "driver \(driver ?? "none"), override \(driverOverride ?? "none"), /dev/vfio \(groupNode)" }
}
