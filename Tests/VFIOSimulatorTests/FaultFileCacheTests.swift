import Foundation
import Testing
import VFIOCore
@testable import VFIOSimulator

/// The fault file's parse is reused only while the file is unchanged: every change another process makes
/// (a rename into place, an in-place rewrite, a removal) is seen at the next read.
struct FaultFileCacheTests {
    let gpu = pci("0000:01:00.0")
    let nic = pci("0000:03:00.0")

    /// The fault file's JSON for one `unbindBusy` address (same length for any address).
    private func busy(_ address: PCIAddress) -> String { "{\"unbindBusy\": [\"\(address)\"]}" }

    @Test func reusesAParseUntilTheFileIsRenamedOverOrRewrittenOrRemoved() throws {
        let scratch = try ScratchDirectory()
        let file = scratch.path + "/faults.json"
        // Settled at once, so every read after a parse may reuse it: only the file's identity protects.
        let cache = FaultFileCache(settleSeconds: 0)
        #expect(cache.read(file) == SimulatorFaults(), "no file: no faults")

        try shell("printf '%s' '\(busy(gpu))' > '\(file)'")
        #expect(cache.read(file)?.unbindBusy == [gpu])
        #expect(cache.read(file)?.unbindBusy == [gpu])
        #expect(cache.parses == 1, "the unchanged file is not read again")

        // Same size, new inode: renamed into place as the simulator and the tests write it.
        try shell("printf '%s' '\(busy(nic))' > '\(file).new' && mv '\(file).new' '\(file)'")
        #expect(cache.read(file)?.unbindBusy == [nic])
        #expect(cache.parses == 2)

        // In place, another size.
        try shell("printf '%s' '{\"probeLeavesDriverless\": [\"\(gpu)\"]}' > '\(file)'")
        #expect(cache.read(file)?.probeLeavesDriverless == [gpu])
        #expect(cache.read(file)?.unbindBusy == [])

        // Half-written (does not parse): nil, and never reused once fixed.
        try shell("printf '%s' '{\"unbindBusy\": [' > '\(file)'")
        #expect(cache.read(file) == nil)
        try shell("printf '%s' '\(busy(gpu))' > '\(file)'")
        #expect(cache.read(file)?.unbindBusy == [gpu])

        try shell("rm '\(file)'")
        #expect(cache.read(file) == SimulatorFaults())
    }

    @Test func aFreshFileIsReadAgainSoASameSizeRewriteInTheSameClockTickIsSeen() throws {
        let scratch = try ScratchDirectory()
        let file = scratch.path + "/faults.json"
        let cache = FaultFileCache()
        try shell("printf '%s' '\(busy(gpu))' > '\(file)'")
        #expect(cache.read(file)?.unbindBusy == [gpu])
        // Same size, same inode, and quite possibly the same file times: only re-reading sees it.
        try shell("printf '%s' '\(busy(nic))' > '\(file)'")
        #expect(cache.read(file)?.unbindBusy == [nic])
        #expect(cache.parses == 2)
    }

    @Test func theKernelSeesAFaultFileWrittenByAnotherProcess() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        #expect(kernel.faults().isEmpty)
        try shell("mkdir -p \"$(dirname '\(kernel.faultFilePath)')\" && printf '%s' '\(busy(gpu))' > '\(kernel.faultFilePath)'")
        let failure = KernelError(call: "write", path: kernel.paths.sys("bus/pci/drivers/nvidia/unbind"), errno: EBUSY)
        #expect(throws: failure) { try kernel.unbind(gpu, from: "nvidia") }
        try shell("rm '\(kernel.faultFilePath)'")
        try kernel.unbind(gpu, from: "nvidia")
        #expect(kernel.driver(of: gpu) == nil)
    }
}
