import Foundation

/// A `vfio-holder` child process: its standard output read line by line on a thread of its own.
final class HolderChild: @unchecked Sendable {
    // @unchecked: `lines`, `errorText` and `ended` are guarded by `condition`.
    private let process = Process()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var errorText = ""
    private var ended = false

    /// Starts `binary ARGUMENTS`.
    init(binary: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw ScenarioFailure("cannot start \(binary): \(error)") }
        let outReader = out.fileHandleForReading, errReader = err.fileHandleForReading
        Thread.detachNewThread { [self] in readLines(outReader) }
        Thread.detachNewThread { [self] in
            let data = errReader.readDataToEndOfFile()
            condition.lock()
            errorText = String(decoding: data, as: UTF8.self)
            condition.unlock()
        }
    }

    private func readLines(_ reader: FileHandle) {
        var pending = Data()
        while true {
            let chunk = reader.availableData
            condition.lock()
            if chunk.isEmpty {
                if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
                ended = true
            } else {
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending = Data(pending[(newline + 1)...])
                }
            }
            condition.broadcast()
            condition.unlock()
            if chunk.isEmpty { return }
        }
    }

    /// The process id.
    var pid: Int32 { process.processIdentifier }

    /// Waits until a line starting with `prefix` appears (returned) or output ends (`nil`). The deadline is a
    /// safety bound for a slow guest, not a synchronisation.
    func waitForLine(startingWith prefix: String, seconds: Double = 60) -> String? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let line = lines.first(where: { $0.hasPrefix(prefix) }) { return line }
            if ended || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Everything printed so far, stdout then stderr, for failure reasons.
    var transcript: String {
        condition.lock()
        defer { condition.unlock() }
        return (lines + (errorText.isEmpty ? [] : ["stderr: " + errorText])).joined(separator: " / ")
    }

    /// Waits for the process to end; its exit status (or signal number).
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM (the holder releases and exits 0) and wait.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
