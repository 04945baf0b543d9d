import Foundation
internal import Glibc

/// A child process (`sh`, then `sleep`) that holds one file open, as a VM holds its VFIO group: for
/// tests of code that must see *other* processes holding a file (vfiod never counts itself).
public final class FileHolder: Sendable {
    /// The child.
    public let process: Process

    /// Starts the child and returns once it has the file open. Blocks briefly: call from a dedicated
    /// thread in async tests.
    public init(path: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec 3<>\"$0\" && echo held && exec sleep 3600", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        guard String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) == "held\n" else {
            process.terminate()
            throw FixtureError("could not hold \(path)")
        }
    }

    /// The child's pid.
    public var pid: Int32 { process.processIdentifier }

    /// Kills the child (SIGKILL) and waits for it: the file is closed when this returns.
    public func release() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { release() }
    }
}
