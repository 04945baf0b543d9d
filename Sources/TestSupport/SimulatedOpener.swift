import Foundation
internal import Glibc

/// A running `vfio-opener --simulated` process holding one device of a simulated kernel's tree: it opens
/// `<root>/dev/vfio/<group>` (or the cdev) and reads device requests from its FIFO
/// `<root>/.vfiod-simulator/requests/<address>.<pid>`, which the simulator's cooperative unbind writes.
///
/// Every method that waits blocks the calling thread: call them from ``runOnDedicatedThread(_:)``.
public final class SimulatedOpener: @unchecked Sendable {
    // @unchecked: `lines` and `buffer` are only touched by the one thread reading at a time (tests read
    // sequentially); the process handle is thread-safe.
    /// The process.
    public let process: Process
    private let output: FileHandle
    private var buffer: [UInt8] = []
    /// Every stdout line read so far.
    public private(set) var lines: [String] = []

    /// Starts the opener on `group` (or on `cdev`, a path like `/dev/vfio/devices/vfio0`) for `device`,
    /// with `--on-request close|ignore`, and waits for its `ready` line. Throws ``FixtureError`` when it
    /// exits before being ready (its stderr in the message).
    public init(root: String, group: Int? = nil, cdev: String? = nil, device: String, onRequest: String = "close") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Fixtures.builtExecutable("vfio-opener"))
        var arguments = ["--simulated", "--host-root", root, "--device", device, "--on-request", onRequest]
        if let group { arguments += ["--group", String(group)] }
        if let cdev { arguments += ["--cdev", cdev] }
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        output = out.fileHandleForReading
        try process.run()
        guard let ready = nextLine(), ready.hasPrefix("ready ") else {
            process.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw FixtureError("vfio-opener did not get ready (status \(process.terminationStatus)): \(message)")
        }
    }

    /// The opener's pid.
    public var pid: Int32 { process.processIdentifier }

    /// Reads stdout until a line starting with `prefix` (returned), or `nil` at end of output.
    public func waitForLine(startingWith prefix: String) -> String? {
        if let seen = lines.first(where: { $0.hasPrefix(prefix) }) { return seen }
        while let line = nextLine() {
            if line.hasPrefix(prefix) { return line }
        }
        return nil
    }

    /// Sends `signal` (`SIGTERM`, `SIGKILL`).
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Reads stdout to its end, waits for the exit and returns the status (or terminating signal).
    @discardableResult
    public func waitForExit() -> Int32 {
        while nextLine() != nil {}
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The next stdout line (blocking), appended to ``lines``; `nil` at end of output.
    private func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                lines.append(line)
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
