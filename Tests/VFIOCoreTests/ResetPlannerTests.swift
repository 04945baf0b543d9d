import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `ResetPlanner` on fake trees written by `SysfsTreeBuilder` and read by the real scanner.
struct ResetPlannerTests {
    private static func with(_ spec: DeviceSpec, resetMethods: [String]?) -> DeviceSpec {
        var spec = spec
        spec.resetMethods = resetMethods
        return spec
    }

    private static func scan(_ devices: [DeviceSpec]) throws -> HostScan {
        let tree = try FakeSysfs.make(HostSpec(devices: devices))
        return try LinuxKernel(paths: tree.hostPaths).scan()
    }

    private static let port = FakeSysfs.device("0000:00:1c.0", 0x8086, 0xa110, 0x060400, driver: "pcieport", group: 1)
    private static func address(_ text: String) -> PCIAddress { PCIAddress(text)! }

    @Test func aFunctionWithFLRGetsAFunctionResetOfItselfAlone() throws {
        let nic = Self.with(FakeSysfs.device("0000:01:00.0", 0x8086, 0x1533, 0x020000, driver: "vfio-pci", group: 2,
                                             parent: "0000:00:1c.0"), resetMethods: ["flr", "bus"])
        let scan = try Self.scan([Self.port, nic])
        let plan = ResetPlanner.plan(nic.address, method: nil, in: scan)
        #expect(plan == ResetPlan(target: nic.address, method: .function, scope: [nic.address], unavailableReason: nil))
        #expect(ResetPlanner.plan(nic.address, method: .hot, in: scan).scope == [nic.address])
    }

    /// The QEMU lab: an e1000 behind a PCIe-to-PCI bridge lists `bus` (it was alone when probed) beside an
    /// edu without a reset_method file; the kernel refuses its function reset, a hot reset takes both.
    @Test func aBusOnlyResetMethodIsNoFunctionResetBesideASibling() throws {
        let bridge = FakeSysfs.device("0000:03:00.0", 0x1b36, 0x000e, 0x060400, driver: nil, group: 10, parent: "0000:00:1c.0")
        let e1000 = Self.with(FakeSysfs.device("0000:04:01.0", 0x8086, 0x100e, 0x020000, driver: "e1000", group: 10,
                                               parent: "0000:03:00.0"), resetMethods: ["bus"])
        let edu = FakeSysfs.device("0000:04:02.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 10, parent: "0000:03:00.0")
        let scan = try Self.scan([Self.port, bridge, e1000, edu])
        let plan = ResetPlanner.plan(e1000.address, method: nil, in: scan)
        #expect(plan.method == .hot)
        #expect(plan.scope == [e1000.address, edu.address])
        let function = ResetPlanner.plan(e1000.address, method: .function, in: scan)
        #expect(function.unavailableReason?.contains("not alone below its bridge (0000:04:02.0)") == true, "\(function)")

        let alone = Self.with(FakeSysfs.device("0000:01:00.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 8,
                                               parent: "0000:00:1c.0"), resetMethods: ["bus"])
        #expect(ResetPlanner.plan(alone.address, method: nil, in: try Self.scan([Self.port, alone])).method == .function)
    }

    @Test func twoFunctionsOnOneBusWithoutResetMethodGetAHotResetOfBoth() throws {
        let gpu = FakeSysfs.device("0000:01:00.0", 0x10de, 0x2684, 0x030000, driver: "vfio-pci", group: 2, parent: "0000:00:1c.0")
        let audio = FakeSysfs.device("0000:01:00.1", 0x10de, 0x22ba, 0x040300, driver: "vfio-pci", group: 2, parent: "0000:00:1c.0")
        let scan = try Self.scan([Self.port, gpu, audio])
        let plan = ResetPlanner.plan(gpu.address, method: nil, in: scan)
        #expect(plan.method == .hot)
        #expect(plan.scope == [gpu.address, audio.address])
        #expect(plan.unavailableReason == nil)
        let function = ResetPlanner.plan(gpu.address, method: .function, in: scan)
        #expect(function.method == nil)
        #expect(function.scope.isEmpty)
        #expect(function.unavailableReason == "no function reset: reset_method is missing")
    }

    @Test func twoGroupsSharingABusAreBothInTheHotScope() throws {
        let first = Self.with(FakeSysfs.device("0000:01:00.0", 0x8086, 0x1533, 0x020000, driver: "vfio-pci", group: 2,
                                               parent: "0000:00:1c.0"), resetMethods: [])
        let second = FakeSysfs.device("0000:01:00.1", 0x8086, 0x1533, 0x020000, driver: "igb", group: 3, parent: "0000:00:1c.0")
        let elsewhere = FakeSysfs.device("0000:00:1f.0", 0x8086, 0x1234, 0x060100, group: 4)
        let scan = try Self.scan([Self.port, first, second, elsewhere])
        let plan = ResetPlanner.plan(second.address, method: nil, in: scan)
        #expect(plan.method == .hot)
        #expect(plan.scope == [first.address, second.address])
        #expect(ResetPlanner.plan(first.address, method: .function, in: scan).unavailableReason == "no function reset: reset_method is empty")
    }

    @Test func aRootBusDeviceWithoutResetMethodHasNoReset() throws {
        let device = Self.with(FakeSysfs.device("0000:00:02.0", 0x8086, 0xa780, 0x030000, driver: "vfio-pci", group: 3),
                               resetMethods: [])
        let scan = try Self.scan([Self.port, device])
        let plan = ResetPlanner.plan(device.address, method: nil, in: scan)
        #expect(plan == ResetPlan(target: device.address, method: nil, scope: [],
                                  unavailableReason: "no reset method: reset_method is empty and the function sits on a root bus"))
        let hot = ResetPlanner.plan(device.address, method: .hot, in: scan)
        #expect(hot.method == nil)
        #expect(hot.unavailableReason == "no hot reset: the function sits on a root bus")
    }

    @Test func aRootBusDeviceWithAMethodStillGetsAFunctionReset() throws {
        let device = Self.with(FakeSysfs.device("0000:00:02.0", 0x8086, 0xa780, 0x030000, driver: "vfio-pci", group: 3),
                               resetMethods: ["pm"])
        let plan = ResetPlanner.plan(device.address, method: nil, in: try Self.scan([device]))
        #expect(plan.method == .function)
        #expect(plan.scope == [device.address])
    }

    @Test func subordinateBusesAreInTheHotScopeAndTheParentBridgeIsNot() throws {
        let endpoint = FakeSysfs.device("0000:01:00.0", 0x1b36, 0x0010, 0x010802, driver: "vfio-pci", group: 2, parent: "0000:00:1c.0")
        let bridge = FakeSysfs.device("0000:01:00.1", 0x1b36, 0x000e, 0x060400, driver: "pcieport", group: 2, parent: "0000:00:1c.0")
        let below = FakeSysfs.device("0000:02:00.0", 0x1af4, 0x1041, 0x020000, driver: "virtio-pci", group: 2, parent: "0000:01:00.1")
        let sibling = FakeSysfs.device("0000:00:1d.0", 0x8086, 0xa111, 0x060400, driver: "pcieport", group: 5)
        let cousin = FakeSysfs.device("0000:05:00.0", 0x8086, 0x1533, 0x020000, group: 6, parent: "0000:00:1d.0")
        let scan = try Self.scan([Self.port, endpoint, bridge, below, sibling, cousin])
        let plan = ResetPlanner.plan(endpoint.address, method: .hot, in: scan)
        #expect(plan.method == .hot)
        #expect(plan.scope == [endpoint.address, bridge.address, below.address])
    }

    @Test func aTargetNotInTheScanHasNoPlan() throws {
        let scan = try Self.scan([Self.port])
        let missing = Self.address("0000:09:00.0")
        for method in [nil, ResetMethod.function, .hot] {
            let plan = ResetPlanner.plan(missing, method: method, in: scan)
            #expect(plan.method == nil)
            #expect(plan.scope.isEmpty)
            #expect(plan.unavailableReason == "0000:09:00.0 is not in the scan")
        }
    }

    @Test func aSnapshotWithoutResetMethodOnARootBusHasNoReset() {
        var facts = PCIDeviceFacts(address: Self.address("0000:00:03.0"), vendorID: 1, deviceID: 2, classCode: 0x020000,
                                   sysfsPath: "/sys/devices/pci0000:00/0000:00:03.0")
        facts.resetMethods = nil
        let scan = HostScan(host: HostFacts(), devices: [facts], groups: [:], notes: [])
        #expect(ResetPlanner.plan(facts.address, method: nil, in: scan).unavailableReason
                == "no reset method: reset_method is missing and the function sits on a root bus")
    }
}
