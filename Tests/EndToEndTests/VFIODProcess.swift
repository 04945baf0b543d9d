import Foundation
import TestSupport

/// The real `vfiod` binary, started as a child process on 127.0.0.1 port 0.
final class VFIODProcess: @unchecked Sendable {
    let process = Process()
    private let stderr = Pipe()
    private(set) var port: UInt16 = 0
    private var log = Data()

    /// Starts `vfiod serve` with `arguments` (the listen address is added); `launcher`, when given, is a
    /// command that runs vfiod (its path and arguments follow the launcher's).
    init(arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws {
        let command = launcher + [ProcessTests.binary, "serve", "--listen", "127.0.0.1:0", "--no-access-log"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "VFIOD_TEST_CRASH_AT")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Reads standard error until the listen line (or the end, when the process died first).
    func waitUntilListening() async throws -> Bool {
        let (found, data): (UInt16?, Data) = try await runOnDedicatedThread { [stderr] in
            var buffer = Data()
            while true {
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { return (nil, buffer) }
                buffer.append(chunk)
                let text = String(decoding: buffer, as: UTF8.self)
                if let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                   let port = UInt16(text[range].split(separator: ":").last!) {
                    return (port, buffer)
                }
            }
        }
        log.append(data)
        if let found { port = found }
        return found != nil
    }

    /// Reads standard error until `text` appears in what the process printed (true) or it ends (false).
    func waitForOutput(containing text: String) async throws -> Bool {
        if output.contains(text) { return true }
        let seen = log
        let (found, data): (Bool, Data) = try await runOnDedicatedThread { [stderr] in
            var buffer = Data()
            while true {
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { return (false, buffer) }
                buffer.append(chunk)
                if String(decoding: seen + buffer, as: UTF8.self).contains(text) { return (true, buffer) }
            }
        }
        log.append(data)
        return found
    }

    /// What the process printed so far (up to its listen line).
    var output: String { String(decoding: log, as: UTF8.self) }

    /// Waits for the process to end; returns whether it was killed by a signal.
    func waitForExit() async throws -> (signaled: Bool, status: Int32) {
        let process = process
        return try await runOnDedicatedThread {
            process.waitUntilExit()
            return (process.terminationReason == .uncaughtSignal, process.terminationStatus)
        }
    }

    func terminate() async {
        if process.isRunning { process.terminate() }
        _ = try? await waitForExit()
    }

    /// One HTTP request on a fresh connection; throws when the process is gone.
    func send(_ method: String, _ path: String, json: Any? = nil,
              headers extra: [(String, String)] = []) async throws -> (status: Int, body: [String: Any], headers: TestResponse) {
        let port = port
        let bytes = try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let headers = (bytes.isEmpty ? [] : [("Content-Type", "application/json")]) + extra
        let response = try await runOnDedicatedThread {
            let client = HTTPTestClient(port: port, receiveTimeoutSeconds: 60)
            defer { client.close() }
            return try client.request(method: method, path: path, headers: headers, body: bytes)
        }
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, body, response)
    }
}
