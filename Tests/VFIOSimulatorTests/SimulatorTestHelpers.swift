import Foundation
import Synchronization
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// A function in one call, for hosts built by hand.
func device(_ address: String, _ classCode: UInt32, driver: String? = nil, group: Int? = nil,
            parent: String? = nil) -> DeviceSpec {
    DeviceSpec(address: PCIAddress(address)!, vendorID: 0x8086, deviceID: 0x1234, classCode: classCode,
               driver: driver, iommuGroup: group, parent: parent.flatMap { PCIAddress($0) })
}

/// An address literal.
func pci(_ text: String) -> PCIAddress { PCIAddress(text)! }

/// The deterministic bind (docs/ARCHITECTURE.md, "Kernel writes"): override, unbind from the current
/// driver, probe, check the link.
func bindToVFIO(_ kernel: some HostKernel, _ address: PCIAddress) throws(KernelError) {
    try kernel.setDriverOverride(address, to: "vfio-pci")
    if let current = kernel.driver(of: address) { try kernel.unbind(address, from: current) }
    try kernel.probe(address)
}

/// The restore: clear the override with a newline, unbind from vfio-pci, probe.
func restore(_ kernel: some HostKernel, _ address: PCIAddress) throws(KernelError) {
    try kernel.setDriverOverride(address, to: nil)
    if kernel.driver(of: address) == "vfio-pci" { try kernel.unbind(address, from: "vfio-pci") }
    try kernel.probe(address)
}

/// What the scanner sees of one function after a step.
func scanned(_ kernel: some HostKernel, _ address: PCIAddress) throws -> PCIDeviceFacts {
    try #require(try kernel.scan().devices.first { $0.address == address })
}

/// The raw bytes of a file, as a string.
func contents(_ path: String) throws -> String {
    String(decoding: try SysfsFiles.readBytes(path), as: UTF8.self)
}

/// A fresh directory, removed when released.
final class ScratchDirectory: Sendable {
    /// Its absolute path.
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "vfiod-simtest-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` on a new thread; `done` is signalled when it returns, with its error kept in `error`.
final class BackgroundCall: Sendable {
    private let outcome = Mutex<KernelError??>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws(KernelError) -> Void) {
        Thread { self.run(body) }.start()
    }

    private func run(_ body: () throws(KernelError) -> Void) {
        var failure: KernelError?
        do { try body() } catch { failure = error }
        outcome.withLock { $0 = .some(failure) }
        done.signal()
    }

    /// Waits for the call to return; its error, `nil` on success.
    func wait() -> KernelError? {
        done.wait()
        return outcome.withLock { $0 ?? nil }
    }

    /// Whether the call has returned.
    var hasReturned: Bool { outcome.withLock { $0 != nil } }
}

/// Runs `script` in `/bin/sh`: a change to the tree that comes from another process.
func shell(_ script: String) throws {
    let result = try ChildProcess.run("/bin/sh", ["-c", script])
    #expect(result.exit.status == 0, "\(result.err)")
}
