import Foundation
import TestSupport

/// The real `vfiod` binary, started as a child process on 127.0.0.1 port 0.
final class VFIODProcess: @unchecked Sendable {
    // @unchecked: `port` is set once, by `waitUntilListening`, before any request is sent.
    let process: ChildProcess
    private(set) var port: UInt16 = 0

    /// Starts `vfiod serve` with `arguments` (the listen address is added); `launcher`, when given, is a
    /// command that runs vfiod (its path and arguments follow the launcher's).
    init(arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws {
        let command = launcher + [ProcessTests.binary, "serve", "--listen", "127.0.0.1:0", "--no-access-log"] + arguments
        process = try ChildProcess(executable: command[0], arguments: Array(command.dropFirst()),
                                   environment: ChildProcess.environment(adding: environment, removing: ["VFIOD_TEST_CRASH_AT"]))
    }

    /// Reads standard error until the listen line (or the end, when the process died first).
    func waitUntilListening() async throws -> Bool {
        let process = process
        let found: UInt16? = try await runOnDedicatedThread {
            process.waitForText(in: .standardError) { text in
                guard let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                      let digits = text[range].split(separator: ":").last else { return nil }
                return UInt16(digits)
            }
        }
        if let found { port = found }
        return found != nil
    }

    /// Reads standard error until `text` appears in what the process printed (true) or it ends (false).
    func waitForOutput(containing text: String) async throws -> Bool {
        let process = process
        return try await runOnDedicatedThread {
            process.waitForText(in: .standardError) { $0.contains(text) ? true : nil } ?? false
        }
    }

    /// What the process printed to standard error so far.
    var output: String { process.text(of: .standardError) }

    /// Waits for the process to end; returns whether it was killed by a signal.
    func waitForExit() async throws -> (signaled: Bool, status: Int32) {
        let process = process
        let exit = try await runOnDedicatedThread { process.waitForExit() }
        return (exit.signaled, exit.status)
    }

    func terminate() async {
        process.terminate()
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
