import Inventory
import Assignments
import Foundation

/// The JSON config file (`--config FILE`, see `deploy/vfiod.json`). Every key is optional; command-line
/// flags override it.
struct ConfigFile: Decodable {
    var listen: String?
    var db: String?
    var hostRoot: String?
    var simulate: String?
    var allow: [String]?
    var pciIds: String?
    var refreshIntervalSeconds: Double?
    var fullScanIntervalSeconds: Double?
    var accessLog: Bool?
    var limits: Limits?
    var tls: TLS?
    var insecureListen: Bool?
    var callbacks: Callbacks?
    var cors: CORS?
    var events: Events?
    var audit: Audit?
    var holderSocket: String?
    var cdiDir: String?

    /// `"tls": {"cert": PATH, "key": PATH, "clientCA": PATH, "clientIdentities": [...]}`.
    struct TLS: Decodable {
        var cert: String?
        var key: String?
        var clientCA: String?
        var clientIdentities: [ClientIdentity]?
    }

    struct Limits: Decodable {
        var maxBodyBytes: Int?
        var connectionTimeoutSeconds: Int?
        var connectionsPerIP: Int?
        var connectionLimit: Int?
        var httpThreads: Int?
        var requestDeadlineSeconds: Double?
    }

    /// `"audit": {"headIntervalMinutes": 5, "witnessUrl": URL, "retention": {…}}`.
    struct Audit: Decodable {
        var headIntervalMinutes: Double?
        var witnessUrl: String?
        var retention: Retention?
    }

    /// `"retention": {"keepDays": 90, "keepRows": N, "archiveDirectory": DIR, "checkIntervalMinutes": 60}`.
    struct Retention: Decodable {
        var keepDays: Double?
        var keepRows: Int64?
        var archiveDirectory: String?
        var checkIntervalMinutes: Double?
    }

    /// Where release callbacks may go.
    struct Callbacks: Decodable {
        /// Addresses, CIDR ranges and host names a `callbackUrl` may name; `[]` refuses every callback.
        var allowedHosts: [String]?
    }

    static func load(_ path: String) throws(ConfigurationError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read config file \(path)")
        }
        do {
            let decoder = JSONDecoder()
            return try decoder.decode(ConfigFile.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigurationError("config file \(path): not valid JSON (\(context.debugDescription))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ConfigurationError("config file \(path): wrong type at \(Self.path(context))")
        } catch {
            throw ConfigurationError("config file \(path): \(error)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }

    /// Applies the file's values to `configuration`.
    func apply(to configuration: inout Configuration) throws(ConfigurationError) {
        if let listen { try configuration.setListen(listen) }
        if let db { configuration.databasePath = db }
        if let hostRoot { configuration.hostRoot = hostRoot }
        if let simulate { configuration.simulate = simulate }
        if let allow {
            for spec in allow {
                do { configuration.allowlist.specs.append(try AllowSpec(parsing: spec)) } catch {
                    throw ConfigurationError("config file: \(error)")
                }
            }
        }
        if let pciIds { configuration.pciIDsPath = pciIds }
        if let refreshIntervalSeconds {
            guard refreshIntervalSeconds >= 1 else { throw ConfigurationError("config file: refreshIntervalSeconds must be at least 1") }
            configuration.refreshIntervalSeconds = refreshIntervalSeconds
        }
        if let fullScanIntervalSeconds {
            guard fullScanIntervalSeconds >= 1 else { throw ConfigurationError("config file: fullScanIntervalSeconds must be at least 1") }
            configuration.fullScanIntervalSeconds = fullScanIntervalSeconds
        }
        if let accessLog { configuration.accessLog = accessLog }
        if let holderSocket { configuration.holderSocket = try Command.absolutePath(holderSocket, "holderSocket") }
        if let cdiDir { configuration.cdiDirectory = try Command.absolutePath(cdiDir, "cdiDir") }
        if let insecureListen { configuration.insecureListen = insecureListen }
        if let tls {
            if let cert = tls.cert { configuration.tls.certificatePath = cert }
            if let key = tls.key { configuration.tls.keyPath = key }
            if let clientCA = tls.clientCA { configuration.tls.clientCAPath = clientCA }
            if let identities = tls.clientIdentities { configuration.tls.clientIdentities = identities }
        }
        if let limits {
            if let value = limits.maxBodyBytes { configuration.maxBodyBytes = value }
            if let value = limits.connectionTimeoutSeconds { configuration.connectionTimeoutSeconds = value }
            if let value = limits.connectionsPerIP { configuration.connectionsPerIP = value }
            if let value = limits.connectionLimit { configuration.connectionLimit = value }
            if let value = limits.httpThreads { configuration.httpThreads = value }
            if let value = limits.requestDeadlineSeconds {
                guard value >= 0, value <= 3600 else {
                    throw ConfigurationError("config file: limits.requestDeadlineSeconds must be 0 (none) to 3600")
                }
                configuration.requestDeadlineSeconds = value
            }
        }
        try applyStreaming(to: &configuration)
        if let audit { try audit.apply(to: &configuration.audit) }
        try configuration.events.apply(bufferBytes: events?.bufferBytes, ringEvents: events?.ringEvents)
        if let hosts = callbacks?.allowedHosts {
            do { configuration.callbackHosts = try CallbackHosts(hosts) } catch {
                throw ConfigurationError("config file: \(error)")
            }
        }
    }
}

extension ConfigFile.Audit {
    /// Applies `audit` to the settings, checking each value.
    func apply(to settings: inout AuditMaintenance.Settings) throws(ConfigurationError) {
        if let minutes = headIntervalMinutes {
            guard minutes > 0, minutes <= 1440 else { throw ConfigurationError("config file: audit.headIntervalMinutes must be above 0 and at most 1440") }
            settings.headIntervalSeconds = minutes * 60
        }
        if let text = witnessUrl {
            guard let url = CallbackURL(text) else { throw ConfigurationError("config file: audit.witnessUrl must be an http:// URL") }
            settings.witness = url
        }
        guard let retention else { return }
        guard let directory = retention.archiveDirectory, directory.hasPrefix("/") else {
            throw ConfigurationError("config file: audit.retention.archiveDirectory must be an absolute path")
        }
        guard retention.keepDays != nil || retention.keepRows != nil else {
            throw ConfigurationError("config file: audit.retention needs keepDays or keepRows")
        }
        if let days = retention.keepDays, days <= 0 { throw ConfigurationError("config file: audit.retention.keepDays must be above 0") }
        if let rows = retention.keepRows, rows < 1 { throw ConfigurationError("config file: audit.retention.keepRows must be at least 1") }
        var policy = AuditMaintenance.Retention(keepDays: retention.keepDays, keepRows: retention.keepRows, directory: directory)
        if let minutes = retention.checkIntervalMinutes {
            guard minutes > 0 else { throw ConfigurationError("config file: audit.retention.checkIntervalMinutes must be above 0") }
            policy.checkIntervalSeconds = minutes * 60
        }
        settings.retention = policy
    }
}
