import Foundation

/// The client commands of `vfiod` (`status`, `devices`, `lease`, …): they talk to a server over HTTP.
public enum ClientMain {
    /// Whether `name` is a client command (or `completion`).
    public static func handles(_ name: String) -> Bool { CommandCatalog.command(named: name) != nil }

    /// The client commands' synopses, one per line, for `vfiod --help`.
    public static var synopses: String {
        CommandCatalog.all.map { "  vfiod " + $0.synopsis }.joined(separator: "\n")
    }

    /// The shared options' help, for `vfiod --help`.
    public static var sharedHelp: String { SharedOptions.help }

    /// `vfiod help NAME` for a client command: its synopsis, what it does and the shared options; nil
    /// when `name` is not one.
    public static func help(_ name: String) -> String? {
        guard let command = CommandCatalog.command(named: name) else { return nil }
        return "usage: vfiod \(command.synopsis)\n\n\(command.summary)\n\n\(command.details)\n\n\(SharedOptions.help)"
    }

    /// Runs the client command `arguments[0]` with the rest; returns its exit status. Blocks its thread
    /// (HTTP through libcurl): call it off Swift's cooperative pool.
    public static func run(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        guard let name = arguments.first, let command = CommandCatalog.command(named: name) else {
            Terminal.error("vfiod: unknown command; try vfiod --help")
            return 2
        }
        CurlTransport.initialise()
        do throws(ClientError) {
            var rest = Arguments(Array(arguments.dropFirst()))
            if rest.flag("--help") || rest.flag("-h") {
                print(help(name) ?? "")
                return 0
            }
            let settings = try ClientSettings.read(&rest, environment: environment)
            let session = Session(settings: settings, api: APIConnection(settings: settings),
                                  terminal: Terminal(colour: settings.colour))
            let status = try command.run(&rest, session)
            try rest.finish(command: name)
            return status
        } catch {
            Terminal.error("vfiod: " + error.message)
            return error.exitStatus
        }
    }
}
