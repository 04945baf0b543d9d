import Foundation
import TestSupport

/// The real `vfiod serve` as a child process on 127.0.0.1 port 0, its standard error drained into memory (so a
/// chatty vfiod never blocks on a full pipe).
final class VFIODChild: Sendable {
    private let child: ChildProcess

    /// Starts `vfio serve --listen 127.0.0.1:0 --no-access-log --no-auth ARGUMENTS` with `environment` added to
    /// this process's (less any `VFIOD_TEST_CRASH_AT` not given here).
    init(binary: String, arguments: [String], environment: [String: String] = [:]) throws {
        do {
            child = try ChildProcess(executable: binary,
                                     arguments: ["serve", "--listen", "127.0.0.1:0", "--no-access-log", "--no-auth"] + arguments,
                                     environment: ChildProcess.environment(adding: environment, removing: ["VFIOD_TEST_CRASH_AT"]))
        } catch {
            throw ScenarioFailure("cannot start \(binary): \(error)")
        }
    }

    private static func listenPort(in text: String) -> UInt16? {
        guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
              let port = text[range].split(separator: ":").last else { return nil }
        return UInt16(port)
    }

    /// Waits for the listen line; throws with vfiod's output when it ended first (or after 120 s, a safety
    /// bound for a slow lab guest, not a synchronisation).
    func waitUntilListening() throws -> APIClient {
        guard let port = child.waitForText(in: .standardError, seconds: 120, Self.listenPort) else {
            throw ScenarioFailure("vfiod did not start: \(log.suffix(600))")
        }
        return APIClient(port: port)
    }

    /// What vfiod wrote to standard error so far.
    var log: String { child.text(of: .standardError) }

    /// Waits for the process to end: whether a signal ended it, and the status or signal number.
    func waitForExit() -> (signaled: Bool, status: Int32) {
        let exit = child.waitForExit()
        return (exit.signaled, exit.status)
    }

    /// Whether the process is still running.
    var isRunning: Bool { child.isRunning }

    /// SIGTERM (vfiod's graceful stop) and wait. Returns false when vfiod was still running 30 s later and had
    /// to be killed with SIGKILL: vfiod drops a SIGTERM that arrives just after its listen line, before its
    /// signal sources are installed (the 30 s are a bound for that bug, not a synchronisation).
    @discardableResult
    func stop() -> Bool {
        child.stop(graceSeconds: 30)
    }
}
