#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// What the simulated kernel counts as its own CPU (``SimulatorCPU``): its writes and VFIO calls, once
/// each, without the tree's reads and without the uevent watcher it calls.
struct SimulatorCPUTests {
    static func host() -> HostSpec {
        HostSpec(devices: [device("0000:05:00.0", 0x020000, driver: "e1000e", group: 10)])
    }

    @Test func aBindAndARestoreCountTheirWritesAndTheirCPU() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let address = pci("0000:05:00.0")
        try bindToVFIO(kernel, address)
        // The override, the unbind from e1000e, the probe; the driver read in between is not counted.
        #expect(kernel.cpu.callCount == 3)
        let afterBind = kernel.cpu.seconds
        #expect(afterBind > 0)
        try restore(kernel, address)
        #expect(kernel.cpu.callCount == 6)
        #expect(kernel.cpu.seconds > afterBind)
    }

    @Test func readsOfTheTreeAreNotCounted() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let address = pci("0000:05:00.0")
        _ = kernel.driver(of: address)
        _ = kernel.driverOverride(of: address)
        _ = kernel.groupMembers(10)
        _ = try kernel.scan()
        #expect(kernel.cpu.callCount == 0)
        #expect(kernel.cpu.seconds == 0)
    }

    @Test func aResetIsOneCallThoughItSearchesForOpenersInside() throws {
        let kernel = try SimulatedKernel(host: SimulatedResetTests.host())
        defer { kernel.close() }
        _ = try kernel.reset(pci("0000:01:00.0"), method: .function, groups: [10])
        #expect(kernel.cpu.callCount == 1)
        _ = kernel.openers(groups: [10], cdevs: [])
        #expect(kernel.cpu.callCount == 2)
    }

    @Test func theUeventWatchersCPUIsNotTheSimulators() throws {
        let kernel = try SimulatedKernel(host: Self.host())
        defer { kernel.close() }
        let burnt = Mutex(0.0)
        // The watcher burns 50 ms of its thread's CPU per event: far more than the writes themselves take.
        let stop = kernel.watchUevents { _ in
            let start = threadCPUSeconds()
            while threadCPUSeconds() - start < 0.05 {}
            burnt.withLock { $0 += threadCPUSeconds() - start }
        }
        defer { stop?() }
        try bindToVFIO(kernel, pci("0000:05:00.0"))
        let watcher = burnt.withLock { $0 }
        // An unbind and a bind event.
        #expect(watcher >= 0.1)
        #expect(kernel.cpu.seconds < watcher / 2, "\(kernel.cpu.seconds) s counted, the watcher took \(watcher) s")
    }
}

/// The calling thread's CPU time in seconds.
private func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
