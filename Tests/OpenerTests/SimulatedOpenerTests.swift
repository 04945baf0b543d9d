import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `vfio-opener --simulated` holding devices of a `SimulatedKernel`: the simulator sees it as an opener,
/// refuses resets of its group, and a cooperative unbind relays device requests to it until it lets go.
/// Unbinds and opener reads block, so they run on dedicated threads.
struct SimulatedOpenerTests {
    private static let address = PCIAddress("0000:01:00.0")!

    /// A root port with one vfio-pci NIC (group 7, flr) below it; cdevs on or off.
    private static func kernel(cdev: Bool = false) throws -> SimulatedKernel {
        let port = FakeSysfs.device("0000:00:01.0", 0x8086, 0xa110, 0x060400, driver: "pcieport", group: 1)
        var nic = FakeSysfs.device("0000:01:00.0", 0x8086, 0x1533, 0x020000, driver: "vfio-pci", group: 7, parent: "0000:00:01.0")
        nic.resetMethods = ["flr"]
        let kernel = try SimulatedKernel(host: HostSpec(cdev: cdev, iommufd: cdev, devices: [port, nic]))
        try kernel.setRequestInterval(.milliseconds(100))
        return kernel
    }

    private static func relayLines(_ kernel: SimulatedKernel) -> [String] {
        kernel.kernelLog(mentioning: address, after: nil).map(\.text).filter { $0.contains("Relaying device request") }
    }

    @Test func aHeldGroupIsReportedAndItsResetIsBusy() async throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        let opener = try await runOnDedicatedThread { try SimulatedOpener(root: kernel.paths.root, group: 7, device: "0000:01:00.0") }
        let openers = kernel.openers(groups: [7], cdevs: [])
        #expect(openers.map(\.pid) == [opener.pid])
        #expect(openers.first?.paths == ["/dev/vfio/7"])
        #expect(openers.first?.commandLine.contains("vfio-opener --simulated") == true)
        let error = #expect(throws: VFIOError.self) { _ = try kernel.reset(Self.address, method: .function, groups: [7]) }
        #expect(error?.errno == .busy)
        opener.send(SIGTERM)
        let status = try await runOnDedicatedThread { opener.waitForExit() }
        #expect(status == 0)
        #expect(opener.lines.last == "exit reason=signal sig=TERM requests=0")
        #expect(kernel.openers(groups: [7], cdevs: []).isEmpty)
        #expect(try kernel.reset(Self.address, method: .function, groups: [7]).method == .function)
        #expect(try FileManager.default.contentsOfDirectory(atPath: kernel.requestFIFODirectory).isEmpty, "FIFO removed")
    }

    @Test func anOpenerThatClosesOnRequestLetsTheUnbindReturn() async throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        let opener = try await runOnDedicatedThread { try SimulatedOpener(root: kernel.paths.root, group: 7, device: "0000:01:00.0") }
        try await runOnDedicatedThread { try kernel.unbind(Self.address, from: "vfio-pci") }
        #expect(kernel.driver(of: Self.address) == nil)
        let status = try await runOnDedicatedThread { opener.waitForExit() }
        #expect(status == 0)
        #expect(opener.lines.contains { $0.hasPrefix("request n=1 ") })
        #expect(opener.lines.last == "exit reason=request requests=1")
        #expect(Self.relayLines(kernel).first == "vfio-pci 0000:01:00.0: Relaying device request to user (#0)")
    }

    @Test func aCdevOpenerIsFoundAndAnsweredToo() async throws {
        let kernel = try Self.kernel(cdev: true)
        defer { kernel.close() }
        let cdev = try #require(kernel.vfioCdev(of: Self.address))
        let opener = try await runOnDedicatedThread {
            try SimulatedOpener(root: kernel.paths.root, cdev: "/dev/vfio/devices/" + cdev, device: "0000:01:00.0")
        }
        #expect(kernel.openers(groups: [7], cdevs: [cdev]).first?.paths == ["/dev/vfio/devices/" + cdev])
        let error = #expect(throws: VFIOError.self) { _ = try kernel.reset(Self.address, method: .function, groups: [7]) }
        #expect(error?.errno == .busy)
        try await runOnDedicatedThread { try kernel.unbind(Self.address, from: "vfio-pci") }
        #expect(kernel.driver(of: Self.address) == nil)
        _ = try await runOnDedicatedThread { opener.waitForExit() }
        #expect(opener.lines.last == "exit reason=request requests=1")
    }

    @Test(arguments: [SIGTERM, SIGKILL])
    func anOpenerThatIgnoresRequestsHoldsTheUnbindUntilItIsSignalled(_ signal: Int32) async throws {
        let kernel = try Self.kernel()
        defer { kernel.close() }
        let opener = try await runOnDedicatedThread {
            try SimulatedOpener(root: kernel.paths.root, group: 7, device: "0000:01:00.0", onRequest: "ignore")
        }
        let unbind = Task { try await runOnDedicatedThread { try kernel.unbind(Self.address, from: "vfio-pci") } }
        // The opener prints every request it ignores, one per interval; the kernel logs every tenth.
        let eleventh = try await runOnDedicatedThread { opener.waitForLine(startingWith: "request n=11 ") }
        #expect(eleventh != nil)
        #expect(kernel.driver(of: Self.address) == "vfio-pci", "still held")
        opener.send(signal)
        try await unbind.value
        #expect(kernel.driver(of: Self.address) == nil)
        #expect(!kernel.groupDeviceExists(7))
        let relayed = Self.relayLines(kernel)
        #expect(Array(relayed.prefix(2)) == ["vfio-pci 0000:01:00.0: Relaying device request to user (#0)",
                                              "vfio-pci 0000:01:00.0: Relaying device request to user (#10)"])
        let status = try await runOnDedicatedThread { opener.waitForExit() }
        if signal == SIGTERM {
            #expect(status == 0)
            #expect(opener.lines.last?.hasPrefix("exit reason=signal sig=TERM requests=") == true)
        } else {
            #expect(opener.process.terminationReason == .uncaughtSignal)
            #expect(status == SIGKILL)
        }
    }
}
