import Foundation
import Testing
import TestSupport

/// Runs the built `vfiod` binary's client commands against a server, as a person or a script would.
struct ClientRunner: Sendable {
    /// What one run gave.
    struct Result: Sendable, CustomStringConvertible {
        let status: Int32
        let out: String
        let err: String
        var description: String { "exit \(status)\nstdout: \(out)\nstderr: \(err)" }
        /// Standard output as bytes, without the one newline the client adds after a body.
        var outBody: [UInt8] { Array(out.utf8.dropLast(out.hasSuffix("\n") ? 1 : 0)) }
    }

    /// The server's base URL.
    let server: String
    /// Extra environment (VFIOD_TOKEN, NO_COLOR …).
    var environment: [String: String] = [:]

    init(port: UInt16, environment: [String: String] = [:]) {
        server = "http://127.0.0.1:\(port)"
        self.environment = environment
    }

    init(server: String, environment: [String: String] = [:]) {
        self.server = server
        self.environment = environment
    }

    /// Runs `vfiod ARGUMENTS` with VFIOD_SERVER set, to its end, off the cooperative pool; with `launcher`,
    /// runs `LAUNCHER ARGUMENTS` instead (a command that runs vfiod itself).
    func run(_ arguments: [String], launcher: [String] = []) async throws -> Result {
        let command = (launcher.isEmpty ? [ProcessTests.binary] : launcher) + arguments
        let environment = ChildProcess.environment(adding: ["VFIOD_SERVER": server].merging(self.environment) { $1 },
                                                   removing: ["VFIOD_TOKEN", "NO_COLOR"].filter { self.environment[$0] == nil })
        return try await runOnDedicatedThread {
            let child = try ChildProcess(executable: command[0], arguments: Array(command.dropFirst()), environment: environment)
            let exit = child.waitForExit()
            child.waitForEnd(of: .standardOutput)
            child.waitForEnd(of: .standardError)
            return Result(status: exit.signaled ? 128 + exit.status : exit.status,
                          out: child.text(of: .standardOutput), err: child.text(of: .standardError))
        }
    }

    /// Runs and expects exit 0; returns standard output.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(arguments)
        #expect(result.status == 0, "vfiod \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return result.out
    }
}

/// The body of a GET as the server sends it.
func apiBody(_ service: TestService, _ path: String, token: String? = nil) async throws -> [UInt8] {
    let response = try await service.get(path, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    #expect(response.status == 200, "\(path): \(response.status)")
    return response.body
}

/// A JSON object parsed from text.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}
