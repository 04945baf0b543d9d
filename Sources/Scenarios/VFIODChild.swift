import Foundation

/// The real `vfiod serve` as a child process on 127.0.0.1 port 0, its standard error drained into memory by a
/// thread of its own (so a chatty vfiod never blocks on a full pipe).
final class VFIODChild: @unchecked Sendable {
    // @unchecked: `output` and `port` are guarded by `condition`; the rest is set in init.
    private let process = Process()
    private let condition = NSCondition()
    private var output = Data()
    private var port: UInt16?
    private var ended = false
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `vfio serve --listen 127.0.0.1:0 --no-access-log --no-auth ARGUMENTS` with `environment` added to
    /// this process's (less any `VFIOD_TEST_CRASH_AT` not given here).
    init(binary: String, arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--no-access-log", "--no-auth"] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "VFIOD_TEST_CRASH_AT")
        env.merge(environment) { _, new in new }
        process.environment = env
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [exited] _ in exited.signal() }
        do { try process.run() } catch { throw ScenarioFailure("cannot start \(binary): \(error)") }
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in drain(reader) }
    }

    private func drain(_ reader: FileHandle) {
        while true {
            let chunk = reader.availableData
            condition.lock()
            if chunk.isEmpty {
                ended = true
            } else {
                output.append(chunk)
                if port == nil { port = Self.listenPort(in: output) }
            }
            condition.broadcast()
            condition.unlock()
            if chunk.isEmpty { return }
        }
    }

    private static func listenPort(in data: Data) -> UInt16? {
        let text = String(decoding: data, as: UTF8.self)
        guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
        return UInt16(text[range].split(separator: ":").last!)
    }

    /// Waits for the listen line; throws with vfiod's output when it ended first (or after 120 s, a safety
    /// bound for a slow lab guest, not a synchronisation).
    func waitUntilListening() throws -> APIClient {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(120)
        while port == nil && !ended {
            if !condition.wait(until: deadline) { break }
        }
        guard let port else {
            throw ScenarioFailure("vfiod did not start: \(String(decoding: output, as: UTF8.self).suffix(600))")
        }
        return APIClient(port: port)
    }

    /// What vfiod wrote to standard error so far.
    var log: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: output, as: UTF8.self)
    }

    /// Waits for the process to end: whether a signal ended it, and the status or signal number.
    func waitForExit() -> (signaled: Bool, status: Int32) {
        process.waitUntilExit()
        return (process.terminationReason == .uncaughtSignal, process.terminationStatus)
    }

    /// Whether the process is still running.
    var isRunning: Bool { process.isRunning }

    /// SIGTERM (vfiod's graceful stop) and wait. Returns false when vfiod was still running 30 s later and had
    /// to be killed with SIGKILL: vfiod drops a SIGTERM that arrives just after its listen line, before its
    /// signal sources are installed (the 30 s are a bound for that bug, not a synchronisation).
    @discardableResult
    func stop() -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        if exited.wait(timeout: .now() + 30) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        process.waitUntilExit()
        return true
    }
}
