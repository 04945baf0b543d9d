import Store
import Foundation
import Dispatch

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
        case .migrate(let path):
            return migrate(path)
        case .createToken(let path, let name, let role, let tenant):
            return createToken(path, name: name, role: role, tenant: tenant)
        case .serve(let configuration):
            return await serve(configuration)
        }
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

    /// Prints the new token alone on standard output, once; the store keeps only its hash.
    private static func createToken(_ path: String, name: String, role: String, tenant: String?) -> Int32 {
        do {
            let database = try Database(path: path)
            _ = try Migrator().apply(to: database)
            guard let tokenRole = TokenRole(rawValue: role) else {
                printError("vfiod: cannot create token: --role must be viewer, operator, auditor or admin")
                return 2
            }
            let (token, record) = try TokenStore(database: database).create(name: name, role: tokenRole, tenant: tenant)
            _ = try AuditLog.append(AuditEntry(actor: "cli", action: "token.created", tenant: record.tenant,
                                               detail: "token \(record.name) (\(record.role.rawValue))"), to: database)
            print(token)
            return 0
        } catch {
            printError("vfiod: cannot create token: \(error)")
            return 1
        }
    }

    private static func serve(_ configuration: Configuration) async -> Int32 {
        let service: VFIOD
        do {
            service = try VFIOD(configuration: configuration)
            try service.start()
        } catch {
            printError("vfiod: \(error)")
            return 1
        }
        Log.info("listening on \(configuration.listenHost):\(service.port) (\(configuration.simulate == nil ? "host root \(configuration.hostRoot)" : "simulating \(configuration.simulate!)"))")
        let signal = await TerminationSignal.wait()
        Log.info("received \(signal), shutting down")
        await service.shutdown()
        Log.info("stopped")
        return 0
    }

    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Waits for SIGTERM or SIGINT without a signal handler running arbitrary code: the signals are
/// ignored for default handling and delivered through Dispatch sources.
enum TerminationSignal {
    static func wait() async -> String {
        await withCheckedContinuation { continuation in
            let queue = DispatchQueue(label: "vfiod.signals")
            let once = OnceFlag()
            var sources: [DispatchSourceSignal] = []
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    if once.take() { continuation.resume(returning: name) }
                }
                source.resume()
                sources.append(source)
            }
            Holder.sources = sources
        }
    }

    private final class OnceFlag: @unchecked Sendable {
        // Only touched on the serial signal queue.
        private var taken = false
        func take() -> Bool { defer { taken = true }; return !taken }
    }

    private enum Holder {
        nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    }
}
