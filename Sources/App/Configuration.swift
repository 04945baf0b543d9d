public import Inventory
public import Assignments
import Foundation

/// Everything `vfiod serve` needs, from the command line and the optional config file.
public struct Configuration: Sendable {
    /// Listen address host part (`127.0.0.1`, `::1`, `0.0.0.0`).
    public var listenHost = "127.0.0.1"
    /// Listen port; 0 picks a free one (tests).
    public var listenPort: UInt16 = 8460
    /// SQLite database file.
    public var databasePath = "/var/lib/vfiod/vfiod.db"
    /// The real host's root (`/`), or a tree laid out like it.
    public var hostRoot = "/"
    /// A topology file or sysfs tree to simulate instead of the real kernel.
    public var simulate: String?
    /// What may ever be lent.
    public var allowlist = Allowlist()
    /// pci.ids for names; missing → ids only.
    public var pciIDsPath = "/usr/share/misc/pci.ids"
    /// Seconds between the inventory's driver checks (which functions exist, which driver each has): the
    /// bound on how long a change that uevents missed goes unseen. Uevents re-read a function at once.
    public var refreshIntervalSeconds = 30.0
    /// Seconds between full inventory scans (every attribute of every function); at least
    /// `refreshIntervalSeconds`.
    public var fullScanIntervalSeconds = 3600.0
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Idle connection timeout, in seconds.
    public var connectionTimeoutSeconds = 30
    /// Connections allowed from one IP address (0: unlimited).
    public var connectionsPerIP = 64
    /// Connections allowed in all.
    public var connectionLimit = 4096
    /// Seconds within which a request's headers and body must arrive, from its first byte (0: none).
    public var requestDeadlineSeconds = 10.0
    /// HTTP worker threads.
    public var httpThreads = 2
    /// Browser origins allowed to call the API (`cors.allowedOrigins`); empty: no CORS.
    public var corsAllowedOrigins: [String] = []
    /// Event streams open at once (`events.maxStreams`); more get `503` `too_many_streams`.
    public var maxStreams = 256
    /// Seconds of silence after which a stream gets a heartbeat (`events.heartbeatSeconds`; 0: none).
    public var streamHeartbeatSeconds = 15
    /// Write one JSON line per request to standard error.
    public var accessLog = true
    /// Operate on the `simulate` directory itself instead of a private copy (tests that restart vfiod).
    public var simulateInPlace = false
    /// Turn authentication off. Refused unless the listener is a loopback address.
    public var authDisabled = false
    /// Serve HTTPS (and optionally require client certificates).
    public var tls = TLSSettings()
    /// Allow a non-loopback listener without TLS (`--insecure-listen`).
    public var insecureListen = false
    /// Threads that run kernel writes (binds, releases).
    public var workerThreads = 16
    /// Operations that may wait for a worker before requests get 503.
    public var workerQueueLimit = 1024
    /// Longest lease a request may ask for, in seconds.
    public var maxTTLSeconds = 30 * 24 * 3600
    /// The hosts a lease's `callbackUrl` may name (`callbacks.allowedHosts`); loopback only by default.
    public var callbackHosts = CallbackHosts.loopback
    /// While the database cannot be read, a token verified this recently keeps working (0: none does);
    /// other tokens get `503` `storage_unavailable`.
    public var tokenOutageGraceSeconds = 30.0
    /// The holder socket's path (`--holder-socket`, `holderSocket`); `nil`: `run/vfiod/holder.sock` under
    /// the host's root (`/run/vfiod/holder.sock` on a real host; inside a simulated host's own tree).
    public var holderSocket: String?
    /// How long a holder-socket client may take to send its request line, in seconds.
    public var holderSilenceSeconds = 5.0
    /// Where the CDI spec of each active assignment is written (`--cdi-dir`, `cdiDir`); `nil`: nowhere.
    public var cdiDirectory: String?
    /// The event stream's limits.
    public var events = EventSettings()

    /// Whether the listen address is loopback (127.0.0.0/8 or ::1).
    public var listensOnLoopback: Bool {
        listenHost == "::1" || listenHost.hasPrefix("127.") || listenHost == "localhost"
    }

    /// The defaults.
    /// The audit history's head anchoring and retention (config file `audit`).
    var audit = AuditMaintenance.Settings()

    public init() {}

    /// The listen address as `host:port` (IPv6 in brackets).
    public var listenAddress: String {
        listenHost.contains(":") ? "[\(listenHost)]:\(listenPort)" : "\(listenHost):\(listenPort)"
    }

    /// Parses `HOST:PORT` or `[V6]:PORT`.
    public mutating func setListen(_ text: String) throws(ConfigurationError) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ConfigurationError("--listen: expected [ADDRESS]:PORT, got \(text)") }
            port = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            throw ConfigurationError("--listen: expected HOST:PORT, got \(text)")
        }
        guard !host.isEmpty, let value = UInt16(port) else {
            throw ConfigurationError("--listen: expected HOST:PORT with a port from 0 to 65535, got \(text)")
        }
        listenHost = String(host)
        listenPort = value
    }
}

/// A configuration that cannot be used; the message is the one line `vfiod` prints.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
