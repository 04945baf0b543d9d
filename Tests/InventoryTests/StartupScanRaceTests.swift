import Foundation
import Inventory
import Synchronization
import Testing
import VFIOCore
import VFIOSimulator

/// The simulated kernel, whose first `scan()` holds its result until the test lets it go: the start-up scan
/// has read the tree, and an operation changes a driver before that scan is published.
private final class HeldScanKernel: HostKernel {
    let base: SimulatedKernel
    private let scanned = DispatchSemaphore(value: 0)
    private let proceed = DispatchSemaphore(value: 0)
    private let first = Atomic<Bool>(true)

    init(_ base: SimulatedKernel) { self.base = base }

    /// Blocks until the first scan has read the tree.
    func waitUntilScanned() { scanned.wait() }
    /// Lets the first scan return what it read.
    func releaseScan() { proceed.signal() }

    var backend: String { base.backend }
    var paths: HostPaths { base.paths }
    func scan() throws -> HostScan {
        let result = try base.scan()
        if first.exchange(false, ordering: .sequentiallyConsistent) {
            scanned.signal()
            proceed.wait()
        }
        return result
    }
    func setDriverOverride(_ address: PCIAddress, to driver: String?) throws(KernelError) { try base.setDriverOverride(address, to: driver) }
    func unbind(_ address: PCIAddress, from driver: String) throws(KernelError) { try base.unbind(address, from: driver) }
    func probe(_ address: PCIAddress) throws(KernelError) { try base.probe(address) }
    func bind(_ address: PCIAddress, to driver: String) throws(KernelError) { try base.bind(address, to: driver) }
    func driver(of address: PCIAddress) -> String? { base.driver(of: address) }
    func driverOverride(of address: PCIAddress) -> String? { base.driverOverride(of: address) }
    func iommuGroup(of address: PCIAddress) -> Int? { base.iommuGroup(of: address) }
    func groupMembers(_ group: Int) -> [PCIAddress] { base.groupMembers(group) }
    func groupDeviceExists(_ group: Int) -> Bool { base.groupDeviceExists(group) }
    func vfioCdev(of address: PCIAddress) -> String? { base.vfioCdev(of: address) }
    func bootID() -> String? { base.bootID() }
    func reset(_ address: PCIAddress, method: ResetMethod, groups: [Int]) throws(VFIOError) -> ResetOutcome {
        try base.reset(address, method: method, groups: groups)
    }
    func configVendorID(of address: PCIAddress) -> UInt16? { base.configVendorID(of: address) }
    func openers(groups: [Int], cdevs: [String], removedCdevs: [String]) -> [VFIOOpener] {
        base.openers(groups: groups, cdevs: cdevs, removedCdevs: removedCdevs)
    }
    func kernelLog(mentioning address: PCIAddress, after: UInt64?) -> [KernelLogRecord] {
        base.kernelLog(mentioning: address, after: after)
    }
}

struct StartupScanRaceTests {
    /// A release resumed at start-up finishes while the first scan runs: the published inventory shows the
    /// driver the release left, not the one the scan read before it.
    @Test func aDeviceRefreshedDuringTheStartUpScanIsReadAgainBeforeItIsPublished() throws {
        let nic = PCIAddress("0000:01:00.0")!
        let spec = DeviceSpec(address: nic, vendorID: 0x8086, deviceID: 0x10d3, classCode: 0x020000, driver: "vfio-pci",
                              iommuGroup: 1)
        let kernel = HeldScanKernel(try SimulatedKernel(host: HostSpec(devices: [spec])))
        let inventory = InventoryService(kernel: kernel, builder: InventoryBuilder(allowlist: Allowlist([try AllowSpec(parsing: "all")])),
                                         intervalSeconds: 3600)
        let failure = Mutex<String?>(nil)
        let started = DispatchSemaphore(value: 0)
        Thread {
            do { try inventory.start() } catch { failure.withLock { $0 = "\(error)" } }
            started.signal()
        }.start()
        kernel.waitUntilScanned()
        // The release: vfio-pci lets the device go, and the worker publishes what it did.
        try kernel.unbind(nic, from: "vfio-pci")
        inventory.refreshDevices([nic])
        kernel.releaseScan()
        started.wait()
        #expect(failure.withLock { $0 } == nil)
        #expect(inventory.current.device(nic)?.facts.driver == nil, "the scan's older view (vfio-pci) must not win")
        inventory.stop()
    }
}
