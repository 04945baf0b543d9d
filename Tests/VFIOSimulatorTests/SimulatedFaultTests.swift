import Foundation
import Testing
import VFIOCore
import VFIOSimulator

/// Injected faults, in process and through the fault file another process would edit.
struct SimulatedFaultTests {
    let gpu = pci("0000:01:00.0")
    let nic = pci("0000:03:00.0")

    @Test func unbindBusy() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        try kernel.injectFault(.unbindBusy(gpu))
        #expect(kernel.faults().contains(.unbindBusy(gpu)))
        let busy = KernelError(call: "write", path: kernel.paths.sys("bus/pci/drivers/nvidia/unbind"), errno: EBUSY)
        #expect(throws: busy) { try kernel.unbind(gpu, from: "nvidia") }
        #expect(try scanned(kernel, gpu).driver == "nvidia")
        #expect(throws: KernelError(call: "write", path: kernel.paths.sys("bus/pci/drivers/vfio-pci/unbind"), errno: ENODEV),
                "ENODEV is checked before the fault") { try kernel.unbind(gpu, from: "vfio-pci") }
        try kernel.removeFault(.unbindBusy(gpu))
        try kernel.unbind(gpu, from: "nvidia")
        #expect(try scanned(kernel, gpu).driver == nil)
    }

    @Test func probeLeavesDriverless() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        try kernel.injectFault(.probeLeavesDriverless(gpu))
        try bindToVFIO(kernel, gpu)
        #expect(try scanned(kernel, gpu).driver == nil)
        #expect(try kernel.scan().host.vfioGroupNodes.isEmpty)
        try kernel.clearFaults()
        #expect(kernel.faults().isEmpty)
        try kernel.probe(gpu)
        #expect(try scanned(kernel, gpu).driver == "vfio-pci")
    }

    @Test func blockingUnbindReleasedFromAnotherThread() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        try bindToVFIO(kernel, gpu)
        try kernel.setDriverOverride(gpu, to: nil)
        try kernel.injectFault(.unbindBlocks(gpu))

        let unbind = BackgroundCall { () throws(KernelError) in try kernel.unbind(gpu, from: "vfio-pci") }
        kernel.waitForBlockedUnbind(of: gpu)
        #expect(!unbind.hasReturned)
        #expect(kernel.blockedUnbindCount(of: gpu) == 1)
        #expect(SysfsFiles.exists(kernel.blockedUnbindDirectory + "/0000:01:00.0"))
        #expect(try scanned(kernel, gpu).driver == "vfio-pci", "the driver stays while the unbind is held")
        // The tree lock is free meanwhile: another group binds.
        try bindToVFIO(kernel, nic)
        #expect(kernel.driver(of: nic) == "vfio-pci")

        try kernel.releaseBlockedUnbinds()
        #expect(unbind.wait() == nil)
        let scan = try kernel.scan()
        #expect(scan.devices.first { $0.address == gpu }?.driver == nil)
        #expect(scan.host.vfioGroupNodes == [7])
        #expect(!SysfsFiles.exists(kernel.blockedUnbindDirectory + "/0000:01:00.0"))
        try kernel.probe(gpu)
        #expect(kernel.driver(of: gpu) == "nvidia")
    }

    @Test func faultFileEditedByAnotherInstance() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        // A second instance on the same tree stands for the test process faulting a separate vfiod.
        let other = try SimulatedKernel(source: kernel.paths.root, inPlace: true)
        try bindToVFIO(kernel, gpu)
        try other.injectFault(.unbindBlocks(gpu))
        #expect(kernel.faults().unbindBlocks == [gpu])

        let unbind = BackgroundCall { () throws(KernelError) in try kernel.unbind(gpu, from: "vfio-pci") }
        kernel.waitForBlockedUnbind(of: gpu)
        #expect(!unbind.hasReturned)
        try other.removeFault(.unbindBlocks(gpu))
        #expect(unbind.wait() == nil)
        #expect(kernel.driver(of: gpu) == nil)
    }

    @Test func handWrittenFaultFile() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        let file = kernel.faultFilePath
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(#"{"unbindBusy": ["0000:01:00.0"]}"#.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        #expect(throws: KernelError(call: "write", path: kernel.paths.sys("bus/pci/drivers/nvidia/unbind"), errno: EBUSY)) {
            try kernel.unbind(gpu, from: "nvidia")
        }
        try Data(#"{"unbindBusy": ["not an address"]}"#.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        #expect(SimulatorFaults.decode(try SysfsFiles.readBytes(file)) == nil)
        #expect(kernel.faults().isEmpty, "an unreadable file injects nothing")
        try kernel.unbind(gpu, from: "nvidia")

        var faults = SimulatorFaults()
        faults.set(.probeLeavesDriverless(nic), true)
        #expect(SimulatorFaults.decode(faults.encoded()) == faults)
    }
}
