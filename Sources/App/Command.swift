import Client
import Inventory
import Store

/// What `vfiod` was asked to do.
public enum Command: Sendable {
    /// Run the service.
    case serve(Configuration)
    /// Apply database migrations and exit.
    case migrate(databasePath: String)
    /// Create an API token and print it once; it expires after `expiresInSeconds` when set.
    case createToken(databasePath: String, name: String, role: String, tenant: String?, expiresInSeconds: Int?)
    /// Print every token's name, role, tenant and times, never a token or its hash.
    case listTokens(databasePath: String)
    /// Revoke the token named `name`.
    case revokeToken(databasePath: String, name: String)
    /// Move audit rows before a seq or time into segment files in a directory (`AuditArchive`).
    case archiveAudit(databasePath: String, before: AuditArchive.Cutoff, directory: String, segmentRows: Int)
    /// Verify the audit chain, through the archive's segments when a directory is given.
    case verifyAudit(databasePath: String, archiveDirectory: String?)
    /// Print usage.
    case help
    /// Print the help of one command (`vfiod help lease`).
    case helpTopic(String)
    /// A client command (`status`, `lease`, …) with its arguments, the command's name first.
    case client([String])
    /// Print the version.
    case version

    /// The version `vfiod --version` prints.
    public static let vfiodVersion = "0.1.0"

    /// Usage text.
    public static let usage = """
    vfiod \(vfiodVersion): lends PCI devices to VMs and containers through Linux VFIO.

    Usage:
      vfiod serve [--listen 127.0.0.1:8460] [--db PATH] [--host-root DIR | --simulate PATH]
                  [--allow SPEC]... [--pci-ids PATH] [--config FILE] [--refresh-interval SECONDS]
                  [--full-scan-interval SECONDS] [--no-access-log] [--no-auth] [--workers N]
                  [--simulate-in-place DIR]
                  [--tls-cert PATH --tls-key PATH [--tls-client-ca PATH]] [--insecure-listen]
                  [--holder-socket PATH] [--cdi-dir DIR]
      vfiod migrate --db PATH
      vfiod token create --db PATH --name NAME --role viewer|operator|auditor|admin [--tenant T]
                         [--expires-in DURATION]
      vfiod token list --db PATH
      vfiod token revoke NAME --db PATH
      vfiod audit archive --db PATH --before TIME|SEQ --to DIR [--segment-rows N]
      vfiod audit verify --db PATH [--archive DIR]
      vfiod --help | --version | help COMMAND

    Client commands (talk to a running vfiod over HTTP):
    \(ClientMain.synopses)

    --allow SPEC   may be repeated: all, an address (0000:41:00.0), vendor:device (10de:2204, 10de:*)
                   or class:PREFIX (class:03). Nothing is lendable unless allowed.
    --simulate P   a topology file (JSON, see examples/topologies) or a directory holding a sysfs tree.
    --config FILE  JSON config (see deploy/vfiod.json); flags given on the command line win.
    --no-auth      serve without bearer tokens: refused unless --listen is a loopback address.
    --tls-cert P, --tls-key P  serve HTTPS only, with this PEM certificate chain and key (SIGHUP reloads them).
    --tls-client-ca P          require client certificates that chain to these PEM CAs.
    --insecure-listen          allow a non-loopback --listen without TLS.
    --holder-socket P          the Unix socket holders fetch their lease's VFIO descriptors from
                               (default /run/vfiod/holder.sock, under the simulated host's root when simulating).
    --cdi-dir DIR              write each active assignment's CDI spec there (e.g. /var/run/cdi).
    --simulate-in-place DIR  simulate on DIR itself (state survives restarts; for tests and labs).
    --expires-in D a token's lifetime: a whole number and s, m, h or d (90m, 30d); without it, none.

    \(ClientMain.sharedHelp)
    """

    /// Parses `arguments` (without the program name).
    public static func parse(_ arguments: [String]) throws(ConfigurationError) -> Command {
        guard let verb = arguments.first else { return .help }
        switch verb {
        case "--help", "-h", "help":
            guard arguments.count > 1 else { return .help }
            guard arguments.count == 2 else { throw ConfigurationError("usage: vfiod help COMMAND") }
            return .helpTopic(arguments[1])
        case "--version", "version": return .version
        case "migrate":
            var options = Options(Array(arguments.dropFirst()))
            guard let db = try options.value("--db") else { throw ConfigurationError("migrate needs --db PATH") }
            try options.finish()
            return .migrate(databasePath: db)
        case "serve":
            return .serve(try serveConfiguration(Array(arguments.dropFirst())))
        case "token":
            return try tokenCommand(Array(arguments.dropFirst()))
        case "audit" where !(arguments.dropFirst().first?.hasPrefix("-") ?? true):
            // A verb (`vfiod audit archive|verify --db PATH`) works on the database; flags only
            // (`vfiod audit [--verify] …`) make the client's command.
            return try auditCommand(Array(arguments.dropFirst()))
        case let verb where ClientMain.handles(verb):
            return .client(arguments)
        default:
            throw ConfigurationError("unknown command \"\(verb)\"; try vfiod --help")
        }
    }

    private static func serveConfiguration(_ arguments: [String]) throws(ConfigurationError) -> Configuration {
        var options = Options(arguments)
        var configuration = Configuration()
        if let file = try options.value("--config") {
            try ConfigFile.load(file).apply(to: &configuration)
        }
        if let listen = try options.value("--listen") { try configuration.setListen(listen) }
        if let db = try options.value("--db") { configuration.databasePath = db }
        let hostRoot = try options.value("--host-root")
        let simulate = try options.value("--simulate")
        if hostRoot != nil, simulate != nil { throw ConfigurationError("--host-root and --simulate exclude each other") }
        if let hostRoot { configuration.hostRoot = hostRoot; configuration.simulate = nil }
        if let simulate { configuration.simulate = simulate }
        if let inPlace = try options.value("--simulate-in-place") {
            guard hostRoot == nil, simulate == nil else {
                throw ConfigurationError("--simulate-in-place excludes --host-root and --simulate")
            }
            configuration.simulate = inPlace
            configuration.simulateInPlace = true
        }
        if options.flag("--no-auth") { configuration.authDisabled = true }
        if options.flag("--insecure-listen") { configuration.insecureListen = true }
        if let path = try options.value("--tls-cert") { configuration.tls.certificatePath = path }
        if let path = try options.value("--tls-key") { configuration.tls.keyPath = path }
        if let path = try options.value("--tls-client-ca") { configuration.tls.clientCAPath = path }
        if let text = try options.value("--workers") {
            guard let count = Int(text), (1...64).contains(count) else { throw ConfigurationError("--workers: expected 1 to 64, got \(text)") }
            configuration.workerThreads = count
        }
        for spec in try options.values("--allow") {
            do { configuration.allowlist.specs.append(try AllowSpec(parsing: spec)) } catch {
                throw ConfigurationError("--allow: \(error)")
            }
        }
        if let path = try options.value("--pci-ids") { configuration.pciIDsPath = path }
        if let text = try options.value("--refresh-interval") {
            guard let seconds = Double(text), seconds >= 1 else {
                throw ConfigurationError("--refresh-interval: expected seconds ≥ 1, got \(text)")
            }
            configuration.refreshIntervalSeconds = seconds
        }
        if let text = try options.value("--full-scan-interval") {
            guard let seconds = Double(text), seconds >= 1 else {
                throw ConfigurationError("--full-scan-interval: expected seconds ≥ 1, got \(text)")
            }
            configuration.fullScanIntervalSeconds = seconds
        }
        if options.flag("--no-access-log") { configuration.accessLog = false }
        if let path = try options.value("--holder-socket") { configuration.holderSocket = try absolutePath(path, "--holder-socket") }
        if let path = try options.value("--cdi-dir") { configuration.cdiDirectory = try absolutePath(path, "--cdi-dir") }
        try options.finish()
        try configuration.tls.validate()
        return configuration
    }
}

extension Command {
    /// `path` when it is absolute, else a configuration error naming `option`.
    static func absolutePath(_ path: String, _ option: String) throws(ConfigurationError) -> String {
        guard path.hasPrefix("/"), path.count > 1 else { throw ConfigurationError("\(option): expected an absolute path, got \(path)") }
        return path
    }
}

/// `--name value` and `--name=value` options, consumed as they are read; leftovers are errors.
struct Options {
    private var arguments: [String]

    init(_ arguments: [String]) { self.arguments = arguments }

    mutating func value(_ name: String) throws(ConfigurationError) -> String? {
        try values(name).last
    }

    mutating func values(_ name: String) throws(ConfigurationError) -> [String] {
        var found: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == name {
                guard index + 1 < arguments.count else { throw ConfigurationError("\(name) needs a value") }
                found.append(arguments[index + 1])
                arguments.removeSubrange(index...(index + 1))
            } else if argument.hasPrefix(name + "=") {
                found.append(String(argument.dropFirst(name.count + 1)))
                arguments.remove(at: index)
            } else {
                index += 1
            }
        }
        return found
    }

    mutating func flag(_ name: String) -> Bool {
        guard let index = arguments.firstIndex(of: name) else { return false }
        arguments.remove(at: index)
        return true
    }

    /// Takes every argument not consumed yet: the positional ones, once the options are read.
    mutating func takeRemaining() -> [String] {
        defer { arguments.removeAll() }
        return arguments
    }

    func finish() throws(ConfigurationError) {
        if let first = arguments.first { throw ConfigurationError("unexpected argument \"\(first)\"; try vfiod --help") }
    }
}
