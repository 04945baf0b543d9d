import Foundation
import Workers

/// A child process for tests and scenarios: an executable started with arguments and an environment, its
/// standard output and standard error each drained into memory by a thread of its own (so a chatty child
/// never blocks on a full pipe) and read back as text or lines; waited for, signalled, stopped.
///
/// The waits block their thread: from async code, call them through ``runOnDedicatedThread(_:)``.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `captured` and `ended` are guarded by `condition`; `process` is set up in init.

    /// One of the two captured streams.
    public enum Stream: Sendable {
        /// Standard output.
        case standardOutput
        /// Standard error.
        case standardError
    }

    /// How the process ended.
    public struct Exit: Sendable, Equatable {
        /// The exit status, or the signal's number when a signal ended it.
        public let status: Int32
        /// Whether a signal ended it.
        public let signaled: Bool
    }

    /// What a run to completion produced.
    public struct Output: Sendable {
        /// How it ended.
        public let exit: Exit
        /// Everything written to standard output.
        public let out: String
        /// Everything written to standard error.
        public let err: String
    }

    private let process = Process()
    private let condition = NSCondition()
    private var captured: [Stream: Data] = [:]
    private var ended: Set<Stream> = []
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `executable ARGUMENTS` with `environment` (nil: this process's) and standard input empty.
    /// With `mergingStandardError`, standard error goes down standard output's pipe (interleaved as
    /// written) and `.standardError` stays empty.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil,
                mergingStandardError: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = mergingStandardError ? out : err
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [exited] _ in exited.signal() }
        if mergingStandardError { ended.insert(.standardError) }
        try process.run()
        do {
            let pipes = mergingStandardError ? [(Stream.standardOutput, out)] : [(.standardOutput, out), (.standardError, err)]
            for (stream, pipe) in pipes {
                let reader = pipe.fileHandleForReading
                try DedicatedThread.start(name: "child-output") { [self] in drain(reader, into: stream) }
            }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw error
        }
    }

    /// Runs `executable ARGUMENTS` until it exits and both its streams end (see `init` for
    /// `mergingStandardError`).
    public static func run(_ executable: String, _ arguments: [String], mergingStandardError: Bool = false) throws -> Output {
        let child = try ChildProcess(executable: executable, arguments: arguments, mergingStandardError: mergingStandardError)
        let exit = child.waitForExit()
        child.waitForEnd(of: .standardOutput)
        child.waitForEnd(of: .standardError)
        return Output(exit: exit, out: child.text(of: .standardOutput), err: child.text(of: .standardError))
    }

    /// This process's environment less `removing`, with `adding` set on top.
    public static func environment(adding: [String: String], removing: [String] = []) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in removing { environment.removeValue(forKey: key) }
        environment.merge(adding) { _, new in new }
        return environment
    }

    private func drain(_ reader: FileHandle, into stream: Stream) {
        while true {
            let chunk = reader.availableData
            condition.lock()
            if chunk.isEmpty { ended.insert(stream) } else { captured[stream, default: Data()].append(chunk) }
            condition.broadcast()
            condition.unlock()
            if chunk.isEmpty { return }
        }
    }

    /// The process id.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Everything `stream` carried so far.
    public func text(of stream: Stream) -> String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: captured[stream, default: Data()], as: UTF8.self)
    }

    /// `stream`'s lines so far: the complete ones, and the last unterminated one once the stream ended.
    public func lines(of stream: Stream) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        return Self.lines(String(decoding: captured[stream, default: Data()], as: UTF8.self), ended: ended.contains(stream))
    }

    private static func lines(_ text: String, ended: Bool) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Splitting never yields no element: the last is "" after a final newline, or the unterminated rest.
        let last = lines.removeLast()
        if ended && !last.isEmpty { lines.append(last) }
        return lines
    }

    /// Waits until `found` finds something in `stream`'s text so far (returned), or the stream ends or
    /// `seconds` pass (nil). `seconds` is a safety bound for a slow machine, not a synchronisation.
    public func waitForText<T>(in stream: Stream, seconds: Double? = nil, _ found: (String) -> T?) -> T? {
        waitFor(stream, seconds: seconds) { text, _ in found(text) }
    }

    /// Waits until a line of `stream` matches (returned), or the stream ends or `seconds` pass (nil).
    public func waitForLine(in stream: Stream, seconds: Double? = nil, where matches: (String) -> Bool) -> String? {
        waitFor(stream, seconds: seconds) { text, ended in Self.lines(text, ended: ended).first(where: matches) }
    }

    /// Waits until `stream` ends (the child and every process it passed the stream to closed it).
    public func waitForEnd(of stream: Stream) {
        _ = waitFor(stream, seconds: nil) { _, _ in nil as Bool? }
    }

    private func waitFor<T>(_ stream: Stream, seconds: Double?, _ found: (_ text: String, _ ended: Bool) -> T?) -> T? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        while true {
            let isEnded = ended.contains(stream)
            if let value = found(String(decoding: captured[stream, default: Data()], as: UTF8.self), isEnded) { return value }
            if isEnded { return nil }
            if let deadline {
                guard condition.wait(until: deadline) else { return nil }
            } else {
                condition.wait()
            }
        }
    }

    /// Waits for the process to end.
    public func waitForExit() -> Exit {
        process.waitUntilExit()
        return Exit(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal)
    }

    /// Waits up to `seconds` for the process to end; nil when it still runs then.
    public func waitForExit(seconds: Double) -> Exit? {
        guard exited.wait(timeout: .now() + seconds) == .success else { return nil }
        exited.signal()  // for the next waiter
        return waitForExit()
    }

    /// Sends SIGTERM when the process still runs.
    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// SIGTERM and wait for the end. With `graceSeconds`, SIGKILL when the process still runs that long
    /// after (a bound for a child that drops the signal, not a synchronisation); returns false then.
    @discardableResult
    public func stop(graceSeconds: Double? = nil) -> Bool {
        terminate()
        if let graceSeconds, waitForExit(seconds: graceSeconds) == nil {
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit()
            return false
        }
        _ = waitForExit()
        return true
    }
}
