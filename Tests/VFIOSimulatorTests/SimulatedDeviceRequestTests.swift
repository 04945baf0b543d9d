import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Cooperative unbind in the simulator, held by this process: it opens the group file and a request FIFO
/// itself (the opener-process tests are in OpenerTests).
struct SimulatedDeviceRequestTests {
    private static let address = pci("0000:01:00.0")

    private static func kernel() throws -> SimulatedKernel {
        let port = device("0000:00:01.0", 0x060400, driver: "pcieport", group: 1)
        let nic = device("0000:01:00.0", 0x020000, driver: "vfio-pci", group: 7, parent: "0000:00:01.0")
        return try SimulatedKernel(host: HostSpec(devices: [port, nic]))
    }

    /// Reads one 8-byte request counter from `fd` (blocking).
    private static func readRequest(_ fd: Int32) -> UInt64? {
        var counter: UInt64 = 0
        let got = withUnsafeMutableBytes(of: &counter) { read(fd, $0.baseAddress!, 8) }
        return got == 8 ? counter : nil
    }

    /// This process's request FIFO for the device, as an opener registers one: its read end and its path.
    static func requestFIFO(_ kernel: SimulatedKernel) throws -> (Int32, String) {
        try FileManager.default.createDirectory(atPath: kernel.requestFIFODirectory, withIntermediateDirectories: true)
        let fifo = kernel.requestFIFODirectory + "/\(address).\(getpid())"
        #expect(mkfifo(fifo, 0o600) == 0)
        let requests = open(fifo, O_RDWR | O_CLOEXEC)
        try #require(requests >= 0)
        return (requests, fifo)
    }

    @Test func anUnbindWaitsForTheOpenerAndRelaysRequestsToItsFIFOAndTheLog() throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        try kernel.setRequestInterval(.milliseconds(100))
        let (requests, fifo) = try Self.requestFIFO(kernel)
        defer { close(requests); unlink(fifo) }
        // Another process holds the group file (the simulator, like vfiod, never counts its own process).
        let opener = try FileOpener(path: kernel.paths.dev("vfio/7"))

        let unbind = BackgroundCall { () throws(KernelError) in try kernel.unbind(Self.address, from: "vfio-pci") }
        #expect(Self.readRequest(requests) == 1)
        #expect(Self.readRequest(requests) == 1, "the request is relayed again at the interval")
        #expect(!unbind.hasReturned)
        #expect(kernel.driver(of: Self.address) == "vfio-pci")
        // As vfio-pci: every request signals the opener, only every tenth (#0, #10, …) is logged.
        for _ in 2..<11 { #expect(Self.readRequest(requests) == 1) }
        let log = kernel.kernelLog(mentioning: Self.address, after: nil).map(\.text)
        #expect(Array(log.prefix(2)) == ["vfio-pci 0000:01:00.0: Relaying device request to user (#0)",
                                          "vfio-pci 0000:01:00.0: Relaying device request to user (#10)"])
        opener.release()
        #expect(unbind.wait() == nil)
        #expect(kernel.driver(of: Self.address) == nil)
        #expect(!kernel.groupDeviceExists(7))
        let sequences = kernel.kernelLog(mentioning: Self.address, after: nil).map(\.sequence)
        #expect(sequences == Array(0..<UInt64(sequences.count)))
        #expect(kernel.kernelLog(mentioning: Self.address, after: 0).first?.sequence == 1)
    }

    /// The iommufd kernel removes the cdev node (`vfio_device_del`) as the unbind starts, before it waits;
    /// the opener's fd stays valid, its link reads `… (deleted)`, and the unbind waits for it all the same.
    @Test func aCdevOpenerKeepsTheUnbindWaitingAfterItsNodeIsGoneAndIsStillFound() throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        try kernel.setRequestInterval(.milliseconds(100))
        let cdev = try #require(kernel.vfioCdev(of: Self.address))
        let node = kernel.paths.dev("vfio/devices/\(cdev)")
        let (requests, fifo) = try Self.requestFIFO(kernel)
        defer { close(requests); unlink(fifo) }
        let opener = try FileOpener(path: node)

        let unbind = BackgroundCall { () throws(KernelError) in try kernel.unbind(Self.address, from: "vfio-pci") }
        #expect(Self.readRequest(requests) == 1)
        #expect(!FileManager.default.fileExists(atPath: node), "the cdev node goes before the wait")
        #expect(kernel.vfioCdev(of: Self.address) == nil)
        #expect(kernel.groupDeviceExists(7), "the group node stays until the device is gone")
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(opener.pid)/fd/3")
        #expect(link.hasSuffix("/dev/vfio/devices/\(cdev) (deleted)"), "\(link)")
        #expect(kernel.openers(groups: [7], cdevs: [cdev]).map(\.pid) == [opener.pid])
        #expect(kernel.openers(groups: [7], cdevs: [cdev]).first?.paths == ["/dev/vfio/devices/\(cdev)"])
        #expect(Self.readRequest(requests) == 1, "the request is relayed again: the opener still holds the device")
        #expect(!unbind.hasReturned)
        opener.release()
        #expect(unbind.wait() == nil)
        #expect(kernel.driver(of: Self.address) == nil)
        #expect(!kernel.groupDeviceExists(7))
        #expect(kernel.openers(groups: [7], cdevs: [cdev]).isEmpty)
    }

    @Test func anUnheldDeviceUnbindsAtOnceWithoutARequest() throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        try kernel.unbind(Self.address, from: "vfio-pci")
        #expect(kernel.driver(of: Self.address) == nil)
        #expect(kernel.kernelLog(mentioning: Self.address, after: nil).isEmpty)
    }

    @Test func theRequestIntervalIsKeptForOtherProcessesOfTheTree() throws {
        let directory = try ScratchDirectory()
        let port = device("0000:00:01.0", 0x060400, driver: "pcieport", group: 1)
        try SysfsTreeBuilder(root: directory.path).build(HostSpec(devices: [port]))
        let first = try SimulatedKernel(source: directory.path, inPlace: true)
        #expect(first.requestInterval == SimulatedKernel.defaultRequestInterval)
        #expect(SimulatedKernel.defaultRequestInterval == .seconds(10))
        try first.setRequestInterval(.milliseconds(250))
        let second = try SimulatedKernel(source: directory.path, inPlace: true)
        #expect(second.requestInterval == .milliseconds(250))
    }
}
