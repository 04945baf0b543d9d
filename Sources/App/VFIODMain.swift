import Client
import ServiceLog
import Workers
import Store
import Foundation
import Dispatch
import Synchronization

/// The `vfiod` command: parses arguments, runs the verb, returns the exit status.
public enum VFIODMain {
    /// Runs `vfiod` with `arguments` (without the program name).
    public static func run(_ arguments: [String]) async -> Int32 {
        let command: Command
        do { command = try Command.parse(arguments) } catch {
            printError("vfiod: \(error)")
            return 2
        }
        switch command {
        case .help:
            print(Command.usage)
            return 0
        case .version:
            print("vfiod \(Command.vfiodVersion)")
            return 0
        case .helpTopic(let topic):
            return help(topic)
        case .client(let arguments):
            // The client blocks on HTTP (libcurl): on a thread of its own, off the cooperative pool.
            do {
                return try await DedicatedThread.run(name: "client") { ClientMain.run(arguments) }
            } catch {
                printError("vfiod: \(error)")
                return 1
            }
        case .migrate(let path):
            return migrate(path)
        case .createToken(let path, let name, let role, let tenant, let expiresIn):
            return TokenCommands.create(path, name: name, role: role, tenant: tenant, expiresInSeconds: expiresIn)
        case .listTokens(let path):
            return TokenCommands.list(path)
        case .revokeToken(let path, let name):
            return TokenCommands.revoke(path, name: name)
        case .archiveAudit(let path, let cutoff, let directory, let segmentRows):
            return AuditCommands.archive(path, before: cutoff, to: directory, segmentRows: segmentRows)
        case .verifyAudit(let path, let directory):
            return AuditCommands.verify(path, archive: directory)
        case .serve(let configuration):
            return await serve(configuration)
        }
    }

    /// `vfiod help TOPIC`: a client command's own help, or the usage for the service's commands.
    private static func help(_ topic: String) -> Int32 {
        if let text = ClientMain.help(topic) {
            print(text)
            return 0
        }
        guard ["serve", "migrate", "token", "help"].contains(topic) else {
            printError("vfiod: no command \"\(topic)\"; try vfiod --help")
            return 2
        }
        print(Command.usage)
        return 0
    }

    private static func migrate(_ path: String) -> Int32 {
        do {
            let database = try Database(path: path)
            let applied = try Migrator().apply(to: database)
            print(applied.isEmpty ? "vfiod: \(path) is up to date" : "vfiod: applied migrations \(applied.map(String.init).joined(separator: ", ")) to \(path)")
            return 0
        } catch {
            printError("vfiod: cannot migrate \(path): \(error)")
            return 1
        }
    }

    private static func serve(_ configuration: Configuration) async -> Int32 {
        // Caught before the service starts: a supervisor may send SIGTERM as soon as it sees the listen line.
        let termination = TerminationSignal.install()
        let reload = ReloadSignal.install()
        let service: VFIOD
        do {
            service = try VFIOD(configuration: configuration)
            try service.start()
        } catch {
            printError("vfiod: \(error)")
            return 1
        }
        let tls = service.tlsSummary.map { " with TLS (\($0))" } ?? ""
        Log.info("listening on \(configuration.listenHost):\(service.port)\(tls) (\(configuration.simulate.map { "simulating \($0)" } ?? "host root \(configuration.hostRoot)"))")
        service.startAuditUpkeep()
        reload.onSignal { reloadTLS(service) }
        let signal = await termination.wait()
        Log.info("received \(signal), shutting down")
        await service.shutdown()
        Log.info("stopped")
        return 0
    }

    /// SIGHUP: the TLS key pair again from its files; the process, assignments and connections stay.
    private static func reloadTLS(_ service: VFIOD) {
        guard let before = service.tlsSummary else {
            Log.info("received SIGHUP: nothing to reload (TLS is off)")
            return
        }
        do {
            Log.info("received SIGHUP: serving the TLS certificate \(try service.reloadTLS())")
        } catch {
            Log.warning("received SIGHUP: cannot reload TLS, still serving \(before): \(error)")
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Waits for SIGTERM or SIGINT without a signal handler running arbitrary code: the signals are
/// ignored for default handling and delivered through Dispatch sources.
/// SIGTERM and SIGINT, caught from the moment ``install()`` returns: a signal that arrives before anyone
/// waits (say, just after "listening on" was logged) is kept, not lost.
final class TerminationSignal: Sendable {
    private struct State {
        var received: String?
        var waiter: CheckedContinuation<String, Never>?
    }
    private let state = Mutex(State())
    private let sources: [SignalSource]

    private struct SignalSource: @unchecked Sendable {
        // Dispatch sources are thread-safe; kept only so they live as long as this object.
        let source: DispatchSourceSignal
    }

    private init(sources: [SignalSource]) { self.sources = sources }

    /// Ignores the default action of SIGTERM and SIGINT and starts catching them.
    static func install() -> TerminationSignal {
        let queue = DispatchQueue(label: "vfiod.signals")
        var sources: [SignalSource] = []
        var handlers: [(DispatchSourceSignal, String)] = []
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            sources.append(SignalSource(source: source))
            handlers.append((source, name))
        }
        let catcher = TerminationSignal(sources: sources)
        for (source, name) in handlers {
            source.setEventHandler { catcher.received(name) }
            source.resume()
        }
        return catcher
    }

    private func received(_ name: String) {
        let waiter = state.withLock { state -> CheckedContinuation<String, Never>? in
            guard state.received == nil else { return nil }
            state.received = name
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: name)
    }

    /// The first signal's name, once one arrived (at once if it already had).
    func wait() async -> String {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state -> String? in
                if let received = state.received { return received }
                state.waiter = continuation
                return nil
            }
            if let already { continuation.resume(returning: already) }
        }
    }
}
