import Foundation
import TestSupport

/// The built `vfio-opener` binary, run to completion with its output captured.
enum OpenerProcess {
    /// Where SwiftPM put the binary: next to the test bundle (or the test runner) in the build directory.
    static var binary: String {
        Fixtures.builtExecutable("vfio-opener")
    }

    /// What one run produced.
    struct Result {
        /// The exit status.
        let status: Int32
        /// Everything written to standard output.
        let out: String
        /// Everything written to standard error.
        let err: String

        /// Standard output's lines, without empty ones.
        var outLines: [String] { out.split(separator: "\n").map(String.init) }
        /// Standard error's lines, without empty ones.
        var errLines: [String] { err.split(separator: "\n").map(String.init) }
    }

    /// Runs the opener with `arguments` until it exits. Only for runs that end on their own (no device here).
    static func run(_ arguments: [String]) throws -> Result {
        let output = try ChildProcess.run(binary, arguments)
        return Result(status: output.exit.status, out: output.out, err: output.err)
    }
}
