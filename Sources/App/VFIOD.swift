import ServiceLog
public import Inventory
import API
import EventStream
import HTTPServer
import Assignments
import Store
import VFIOCore
import VFIOSimulator
import Workers
import Foundation
import Synchronization

/// One running vfiod: store, kernel, inventory, assignments, API and HTTP server, wired from a configuration.
///
/// Start order: database (migrated) → kernel → recovery of interrupted operations → uevents → first
/// inventory scan → HTTP server → lease expiry. Shutdown runs in reverse. Tests create one in-process
/// with `listenPort` 0 and read `port` back.
public final class VFIOD: Sendable {
    /// The configuration it runs with.
    public let configuration: Configuration
    /// The inventory service (tests force refreshes through it).
    public let inventory: InventoryService
    /// The lease service.
    public let assignments: AssignmentService
    /// The kernel it drives (tests reach the simulator's faults through it).
    public let kernel: any HostKernel
    private let database: Database
    /// Checkpoints the WAL off the writer's path.
    private let checkpointer: WALCheckpointer
    private let api: APIService
    private let server: HTTPServer
    private let workers: WorkerPool
    private let storeExecutor: DedicatedExecutor
    private let tokenVerifier: StoreTokenVerifier?
    private let events: EventFeeds
    /// Stops the kernel's uevent reports; nil while none are watched.
    private let uevents = Mutex<(@Sendable () -> Void)?>(nil)
    private let expiry = Mutex<Task<Void, Never>?>(nil)
    private let auditMaintenance: AuditMaintenance
    /// Holders fetch their lease's descriptors here.
    private let holderSocket: HolderSocket
    private let broker: HolderBroker

    /// Opens the database, the kernel and pci.ids. Throws `StartError` with one printable line.
    public init(configuration: Configuration) throws(StartError) {
        self.configuration = configuration
        try Self.checkListener(configuration)
        let (database, checkpointer) = try Self.openStore(configuration)
        self.database = database
        self.checkpointer = checkpointer
        let events = try EventFeeds.make(configuration.events, database: database)
        self.events = events
        let kernel = try Self.openKernel(configuration)
        self.kernel = kernel
        workers = WorkerPool(name: "vfiod-kernel", threads: configuration.workerThreads,
                             queueLimit: configuration.workerQueueLimit, stuckAfterSeconds: 30, maxExtraThreads: 16)
        storeExecutor = DedicatedExecutor(name: "vfiod-sqlite", queueLimit: 65536, stuckAfterSeconds: 30)
        let late = LateBindings()
        inventory = Self.makeInventory(configuration, kernel: kernel, database: database, late: late)
        let assignments = AssignmentService(database: database, kernel: kernel, inventory: inventory, workers: workers,
                                  storeExecutor: storeExecutor, maxTTLSeconds: configuration.maxTTLSeconds,
                                  callbackHosts: configuration.callbackHosts, onSteps: events.stepObserver,
                                  heldSteps: events.heldSteps)
        self.assignments = assignments
        late.assignments.withLock { $0 = assignments }
        tokenVerifier = configuration.authDisabled
            ? nil : StoreTokenVerifier(database: database, outageGraceSeconds: configuration.tokenOutageGraceSeconds)
        let api = Self.makeAPI(configuration, inventory: inventory, assignments: assignments, database: database, kernel: kernel,
                               workers: workers, tokens: tokenVerifier, events: events.hub, late: late)
        late.api.withLock { $0 = api }
        self.api = api
        server = Self.makeServer(configuration, api: api)
        auditMaintenance = AuditMaintenance(database: database, settings: configuration.audit)
        let broker = HolderBroker(service: assignments)
        self.broker = broker
        var limits = HolderSocket.Limits()
        limits.silenceSeconds = configuration.holderSilenceSeconds
        holderSocket = HolderSocket(path: Self.holderSocketPath(configuration, kernel: kernel), limits: limits) { connection, event in
            broker.handle(connection, event)
        }
    }

    /// The holder socket's path: as configured, else `run/vfiod/holder.sock` under the kernel's root.
    static func holderSocketPath(_ configuration: Configuration, kernel: any HostKernel) -> String {
        if let path = configuration.holderSocket { return path }
        let root = kernel.paths.root.hasSuffix("/") ? String(kernel.paths.root.dropLast()) : kernel.paths.root
        return root + "/run/vfiod/holder.sock"
    }

    /// Where holders fetch their descriptors.
    public var holderSocketPath: String { holderSocket.path }

    /// Recovers interrupted operations, scans the host, then starts serving.
    /// Throws `StartError` with one printable line.
    public func start() throws(StartError) {
        let assignments = assignments
        do { try events.tail.start() } catch { throw StartError(description: "cannot start the event stream: \(error)") }
        let report = try StartError.wrap("cannot recover interrupted operations") { try assignments.recover() }
        if report != RecoveryReport() {
            Log.info("recovery: completed \(report.completed), rolled back \(report.rolledBack), resumed \(report.resumed), lost \(report.lost)")
        }
        // Watched before the first scan, so that no change after it goes unreported.
        let stopUevents = kernel.watchUevents { [inventory] event in inventory.kernelReported(event) }
        uevents.withLock { $0 = stopUevents }
        if stopUevents == nil, kernel.backend == "linux" {
            Log.warning("PCI uevents are not watched (a host root other than /, or no netlink socket here): a driver change "
                        + "is seen by the inventory's check, within \(Int(configuration.refreshIntervalSeconds)) s")
        }
        try StartError.wrap("cannot read the host's PCI devices") { try inventory.start() }
        if let directory = configuration.cdiDirectory {
            try StartError.wrap("cannot write CDI specs to \(directory)") { try assignments.writeCDISpecs(to: directory) }
        }
        assignments.holderSocketPath.withLock { $0 = holderSocket.path }
        do throws(HolderSocketError) { try holderSocket.start() } catch { throw StartError(description: error.description) }
        do { try server.start() } catch {
            holderSocket.stop()
            throw StartError(description: "cannot listen on \(configuration.listenAddress): \(error)")
        }
        expiry.withLock { task in
            task = Task.detached { await assignments.expireLeasesWhenDue() }
        }
    }

    /// Starts the audit history's upkeep (`AuditMaintenance`: the head in the log and at the witness, the
    /// retention policy) on its own thread. `serve` calls it once it has logged where it listens, so the
    /// listen line stays the first; `shutdown` stops it after its last head line.
    public func startAuditUpkeep() {
        auditMaintenance.start()
    }

    /// The port the server listens on (the real one when configured with 0).
    public var port: UInt16 { server.port }

    /// The TLS key pair served ("serial …, subject …, expires …"); nil without TLS.
    public var tlsSummary: String? { server.tlsSummary }

    /// Loads the TLS certificate and key again (SIGHUP); assignments, connections and requests in flight stay.
    /// Returns what is served now; throws (and the previous key pair stays) when they cannot be used.
    public func reloadTLS() throws(StartError) -> String {
        do { return try server.reloadTLS() } catch { throw StartError(description: error.description) }
    }

    /// Every route the API serves.
    public var routes: [(method: String, pattern: String)] { api.routes }

    /// Stops accepting, lets in-flight requests finish (up to `timeout`), then stops everything.
    /// A kernel write stuck in the kernel is reported and abandoned, never waited on forever.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        holderSocket.stop()
        await server.shutdown(timeout: timeout)
        await broker.shutdown(timeout: timeout)
        await assignments.stopCDISpecs()
        expiry.withLock { $0?.cancel(); $0 = nil }
        uevents.withLock { $0?(); $0 = nil }
        let stuck = await workers.shutdown(timeout: timeout)
        if !stuck.isEmpty { Log.warning("abandoned kernel operations stuck at shutdown: \(stuck.joined(separator: ", "))") }
        await auditMaintenance.stop()
        _ = await storeExecutor.shutdown(timeout: timeout)
        await tokenVerifier?.shutdown(timeout: timeout)
        events.tail.stop()
        checkpointer.stop()
        inventory.stop()
        (kernel as? SimulatedKernel)?.close()
    }
}

/// What the pieces built first reach only once later ones exist: the inventory publishes to the API and
/// asks the assignments for their marks, and readiness reports the identity store's last problem.
final class LateBindings: Sendable {
    /// The API, set once built.
    let api = Mutex<APIService?>(nil)
    /// The lease service, set once built.
    let assignments = Mutex<AssignmentService?>(nil)
    /// Why the last identity recording failed; nil when it succeeded.
    let storeProblem = Mutex<String?>(nil)
}

/// The builders `VFIOD.init` wires the service from, in start order: listener check, store, kernel,
/// inventory, API and HTTP server.
private extension VFIOD {
    /// Refuses listeners the configuration may not use: `--no-auth` off loopback, plain HTTP off loopback
    /// without `--insecure-listen`.
    static func checkListener(_ configuration: Configuration) throws(StartError) {
        if configuration.authDisabled && !configuration.listensOnLoopback {
            throw StartError(description: "--no-auth is only allowed on a loopback listener, not \(configuration.listenAddress)")
        }
        if configuration.tls.server == nil && !configuration.insecureListen && !configuration.listensOnLoopback {
            throw StartError(description: "a listener that is not loopback (\(configuration.listenAddress)) needs TLS (--tls-cert and --tls-key) or --insecure-listen")
        }
    }

    /// Opens and migrates the database, checks that it can be written, and opens its checkpointer.
    static func openStore(_ configuration: Configuration) throws(StartError) -> (Database, WALCheckpointer) {
        let database = try StartError.wrap("cannot open database \(configuration.databasePath)") {
            let database = try Database(path: configuration.databasePath)
            _ = try Migrator().apply(to: database)
            return database
        }
        try WriteCheck.run(on: database)
        let identities = Set(configuration.tls.principals.values.map(\.name))
        let tokens = try StartError.wrap("cannot read the tokens of \(configuration.databasePath)") {
            try TokenStore(database: database).list().map(\.name)
        }
        if let shared = tokens.first(where: identities.contains) {
            throw StartError(description: "tls.clientIdentities: the name \(shared) is also a token's; give the certificate another name")
        }
        let checkpointer = try StartError.wrap("cannot open database \(configuration.databasePath) for checkpoints") {
            try WALCheckpointer(database: database)
        }
        return (database, checkpointer)
    }

    /// The simulated kernel when `--simulate` names a host, else Linux below `hostRoot`.
    static func openKernel(_ configuration: Configuration) throws(StartError) -> any HostKernel {
        try StartError.wrap("cannot load simulated host \(configuration.simulate ?? "")") {
            if let source = configuration.simulate {
                return try SimulatedKernel(source: source, inPlace: configuration.simulateInPlace)
            }
            return LinuxKernel(paths: HostPaths(root: configuration.hostRoot))
        }
    }

    /// The inventory service: each snapshot goes to the API and the drift observer, and a full scan's
    /// identities are recorded.
    static func makeInventory(_ configuration: Configuration, kernel: any HostKernel, database: Database,
                              late: LateBindings) -> InventoryService {
        let names = PCINames.load(path: configuration.pciIDsPath)
        let builder = InventoryBuilder(allowlist: configuration.allowlist, names: names)
        let identities = DeviceIdentityStore(database: database)
        let drift = DriftObserver(database: database)
        return InventoryService(kernel: kernel, builder: builder, intervalSeconds: configuration.refreshIntervalSeconds,
                                fullScanIntervalSeconds: configuration.fullScanIntervalSeconds,
                                assignmentMarks: { late.assignments.withLock { $0 }?.assignmentMarks ?? [:] }) { snapshot, fullScan in
            late.api.withLock { $0 }?.snapshotDidChange(snapshot, fullScan: fullScan)
            drift.observe(snapshot)
            // Identities change only when hardware does: record them from full scans, not from the
            // patches every bind and release publishes.
            if fullScan {
                let problem = IdentityRecorder.record(snapshot, into: identities)
                late.storeProblem.withLock { $0 = problem }
            }
        }
    }
}

/// A start failure: one line for the terminal, then exit non-zero.
public struct StartError: Error, Sendable, CustomStringConvertible {
    /// The line to print.
    public let description: String

    static func wrap<T>(_ context: String, _ body: () throws -> T) throws(StartError) -> T {
        do { return try body() } catch let error as StartError { throw error } catch {
            throw StartError(description: "\(context): \(error)")
        }
    }
}
