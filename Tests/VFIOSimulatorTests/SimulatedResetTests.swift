import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// The simulated kernel's reset rules. A reset really opens the fake VFIO files; afterwards no fd of this
/// process may point into the tree, whichever way the reset ended.
struct SimulatedResetTests {
    /// A root port with an NVMe (flr) and, below a second port, a GPU + audio pair without reset_method in
    /// two groups, an igb sharing the GPU's group-2 bus on a third group, and a root-bus device.
    static func host(cdev: Bool = true) -> HostSpec {
        let port1 = device("0000:00:01.0", 0x060400, driver: "pcieport", group: 1)
        var nvme = device("0000:01:00.0", 0x010802, driver: "vfio-pci", group: 10, parent: "0000:00:01.0")
        nvme.resetMethods = ["flr", "bus"]
        let port2 = device("0000:00:02.0", 0x060400, driver: "pcieport", group: 2)
        let gpu = device("0000:02:00.0", 0x030000, driver: "vfio-pci", group: 20, parent: "0000:00:02.0")
        let audio = device("0000:02:00.1", 0x040300, driver: "vfio-pci", group: 20, parent: "0000:00:02.0")
        let nic = device("0000:02:00.2", 0x020000, driver: "vfio-pci", group: 21, parent: "0000:00:02.0")
        var onRoot = device("0000:00:03.0", 0x020000, driver: "vfio-pci", group: 3)
        onRoot.resetMethods = []
        let shared = device("0000:00:04.0", 0x020000, driver: "vfio-pci", group: 4)
        let sharedOther = device("0000:00:04.1", 0x020000, driver: "e1000e", group: 4)
        return HostSpec(cdev: cdev, iommufd: cdev, devices: [port1, nvme, port2, gpu, audio, nic, onRoot, shared, sharedOther])
    }

    private static func expectError(_ errno: VFIOErrno, operation: String, _ kernel: SimulatedKernel,
                                    _ body: () throws(VFIOError) -> ResetOutcome) {
        let error = #expect(throws: VFIOError.self) { _ = try body() }
        #expect(error?.errno == errno, "\(String(describing: error))")
        #expect(error?.operation == operation, "\(String(describing: error))")
        expectNoFileOpen(kernel)
    }

    /// No fd of this process points into the tree, but for the spare intent records the simulator keeps
    /// open for its writes (`.vfiod-simulator/spare/`).
    static func expectNoFileOpen(_ kernel: SimulatedKernel, sourceLocation: SourceLocation = #_sourceLocation) {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let inTree = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            .filter { $0.hasPrefix(kernel.paths.root + "/") && !$0.hasPrefix(kernel.paths.root + "/.vfiod-simulator/spare/") }
        #expect(inTree.isEmpty, "\(inTree)", sourceLocation: sourceLocation)
    }

    @Test func aFunctionResetOfAFunctionWithFLRSucceedsOnTheCdevPath() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let outcome = try kernel.reset(pci("0000:01:00.0"), method: .function, groups: [10])
        #expect(outcome == ResetOutcome(method: .function, path: .cdev, kernelScope: []))
        Self.expectNoFileOpen(kernel)
    }

    @Test func withoutCdevsTheGroupPathIsUsed() throws {
        let kernel = try SimulatedKernel(host: Self.host(cdev: false))
        defer { kernel.close() }
        let outcome = try kernel.reset(pci("0000:02:00.0"), method: .hot, groups: [20, 21])
        #expect(outcome == ResetOutcome(method: .hot, path: .group,
                                        kernelScope: [pci("0000:02:00.0"), pci("0000:02:00.1"), pci("0000:02:00.2")]))
        Self.expectNoFileOpen(kernel)
    }

    @Test func aHotResetOnTheCdevPathReportsItsScope() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let outcome = try kernel.reset(pci("0000:02:00.1"), method: .hot, groups: [21, 20])
        #expect(outcome.path == .cdev)
        #expect(outcome.kernelScope == [pci("0000:02:00.0"), pci("0000:02:00.1"), pci("0000:02:00.2")])
    }

    @Test func aHotResetMissingAGroupOfItsScopeIsInvalid() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        Self.expectError(.invalidArgument, operation: "VFIO_DEVICE_PCI_HOT_RESET", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:02:00.0"), method: .hot, groups: [20])
        }
    }

    @Test func aHotResetWithAScopeFunctionOffVFIOIsInvalid() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        try kernel.unbind(pci("0000:02:00.2"), from: "vfio-pci")
        Self.expectError(.invalidArgument, operation: "VFIO_DEVICE_PCI_HOT_RESET", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:02:00.0"), method: .hot, groups: [20, 21])
        }
    }

    @Test func aFunctionResetWithoutResetMethodIsInvalid() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        Self.expectError(.invalidArgument, operation: "VFIO_DEVICE_RESET", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:02:00.0"), method: .function, groups: [20])
        }
        Self.expectError(.noSuchDevice, operation: "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:00:03.0"), method: .hot, groups: [3])
        }
    }

    @Test func aGroupWithAMemberOnAnotherDriverIsNotViable() throws {
        let kernel = try SimulatedKernel(host: Self.host(cdev: false))
        defer { kernel.close() }
        Self.expectError(.notPermitted, operation: "VFIO_GROUP_SET_CONTAINER", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:00:04.0"), method: .function, groups: [4])
        }
        try kernel.unbind(pci("0000:00:04.1"), from: "e1000e")
        let error = #expect(throws: VFIOError.self) { _ = try kernel.reset(pci("0000:00:04.0"), method: .function, groups: [4]) }
        #expect(error?.errno == .invalidArgument, "viable once the member is unbound; then no reset_method")
    }

    @Test func aTargetOffVFIOIsNoSuchDevice() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        Self.expectError(.noSuchDevice, operation: "open", kernel) { () throws(VFIOError) in
            try kernel.reset(pci("0000:00:04.1"), method: .function, groups: [4])
        }
    }

    @Test func aGroupFileHeldByAnotherProcessIsBusy() throws {
        let kernel = try SimulatedKernel(host: Self.host(cdev: false))
        defer { kernel.close() }
        let opener = try FileOpener(path: kernel.paths.dev("vfio/10"))
        let error = #expect(throws: VFIOError.self) { _ = try kernel.reset(pci("0000:01:00.0"), method: .function, groups: [10]) }
        #expect(error?.errno == .busy)
        #expect(kernel.openers(groups: [10], cdevs: []) .map(\.pid) == [opener.pid])
        opener.release()
        #expect(try kernel.reset(pci("0000:01:00.0"), method: .function, groups: [10]).method == .function)
    }

    @Test func faultsFailResetsAndDeadAfterResetKillsTheVendorID() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let nvme = pci("0000:01:00.0")
        try kernel.injectFault(.resetFails(nvme))
        Self.expectError(.ioError, operation: "VFIO_DEVICE_RESET", kernel) { () throws(VFIOError) in
            try kernel.reset(nvme, method: .function, groups: [10])
        }
        try kernel.injectFault(.hotResetFails(nvme))
        Self.expectError(.notTTY, operation: "VFIO_DEVICE_PCI_HOT_RESET", kernel) { () throws(VFIOError) in
            try kernel.reset(nvme, method: .hot, groups: [10])
        }
        try kernel.clearFaults()
        try kernel.injectFault(.deadAfterReset(nvme))
        #expect(kernel.configVendorID(of: nvme) == 0x8086, "alive until reset")
        _ = try kernel.reset(nvme, method: .hot, groups: [10])
        #expect(kernel.configVendorID(of: nvme) == 0xffff)
        #expect(kernel.faults().deadAfterReset == [nvme])
        try kernel.removeFault(.deadAfterReset(nvme))
        #expect(kernel.configVendorID(of: nvme) == 0x8086)
        try kernel.injectFault(.deadAfterReset(nvme))
        #expect(kernel.configVendorID(of: nvme) == 0x8086, "a new fault waits for the next reset")
    }

    @Test func theNewFaultKeysRoundTripThroughTheFaultFile() throws {
        var faults = SimulatorFaults()
        faults.set(.resetFails(pci("0000:01:00.0")), true)
        faults.set(.hotResetFails(pci("0000:02:00.0")), true)
        faults.set(.deadAfterReset(pci("0000:03:00.0")), true)
        #expect(SimulatorFaults.decode(faults.encoded()) == faults)
        #expect(!faults.isEmpty)
        let text = String(decoding: faults.encoded(), as: UTF8.self)
        for key in ["\"resetFails\"", "\"hotResetFails\"", "\"deadAfterReset\""] { #expect(text.contains(key)) }
        #expect(SimulatorFaults.decode(Array(#"{"hotResetFails": ["bad"]}"#.utf8)) == nil)
    }
}
