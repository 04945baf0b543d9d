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
        if let hosts = callbacks?.allowedHosts {
            do { configuration.callbackHosts = try CallbackHosts(hosts) } catch {
                throw ConfigurationError("config file: \(error)")
            }
        }
    }
}
