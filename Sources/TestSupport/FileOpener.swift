import Foundation
internal import Glibc

/// A child process (`sh`, then `sleep`) that holds one file open, as a VM holds its VFIO group: for
/// tests of code that must see *other* processes holding a file (vfiod never counts itself).
public final class FileOpener: Sendable {
    private let child: ChildProcess

    /// Starts the child and returns once it has the file open. Blocks briefly: call from a dedicated
    /// thread in async tests.
    public init(path: String) throws {
        child = try ChildProcess(executable: "/bin/sh",
                                 arguments: ["-c", "exec 3<>\"$0\" && echo held && exec sleep 3600", path])
        guard child.waitForLine(in: .standardOutput, where: { $0 == "held" }) != nil else {
            child.terminate()
            throw FixtureError("could not hold \(path): \(child.text(of: .standardError))")
        }
    }

    /// The child's pid.
    public var pid: Int32 { child.processIdentifier }

    /// Kills the child (SIGKILL) and waits for it: the file is closed when this returns.
    public func release() {
        kill(child.processIdentifier, SIGKILL)
        _ = child.waitForExit()
    }

    deinit {
        if child.isRunning { release() }
    }
}
