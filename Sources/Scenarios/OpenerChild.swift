import TestSupport

/// A `vfio-opener` child process, its standard output read line by line.
final class OpenerChild: Sendable {
    private let child: ChildProcess

    /// Starts `binary ARGUMENTS`.
    init(binary: String, arguments: [String]) throws {
        do { child = try ChildProcess(executable: binary, arguments: arguments) } catch {
            throw ScenarioFailure("cannot start \(binary): \(error)")
        }
    }

    /// The process id.
    var pid: Int32 { child.processIdentifier }

    /// Waits until a line starting with `prefix` appears (returned) or output ends (`nil`). The deadline is a
    /// safety bound for a slow guest, not a synchronisation.
    func waitForLine(startingWith prefix: String, seconds: Double = 60) -> String? {
        child.waitForLine(in: .standardOutput, seconds: seconds) { $0.hasPrefix(prefix) }
    }

    /// Everything printed so far, stdout then stderr, for failure reasons.
    var transcript: String {
        let errorText = child.text(of: .standardError)
        return (child.lines(of: .standardOutput) + (errorText.isEmpty ? [] : ["stderr: " + errorText])).joined(separator: " / ")
    }

    /// Waits for the process to end; its exit status (or signal number).
    func waitForExit() -> Int32 {
        child.waitForExit().status
    }

    /// SIGTERM (the opener releases and exits 0) and wait.
    func stop() {
        child.stop()
    }
}
