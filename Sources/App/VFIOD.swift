public import Inventory
import API
import HTTPServer
import Store
import VFIOCore
import VFIOSimulator
import Foundation
import Synchronization

/// One running vfiod: store, kernel, inventory, API and HTTP server, wired from a configuration.
///
/// Start order: database (migrated) → kernel → first inventory scan → HTTP server → uevents.
/// Shutdown runs in reverse. Tests create one in-process with `listenPort` 0 and read `port` back.
public final class VFIOD: Sendable {
    /// The configuration it runs with.
    public let configuration: Configuration
    /// The inventory service (tests force refreshes through it).
    public let inventory: InventoryService
    private let database: Database
    private let kernel: any HostKernel
    private let api: APIService
    private let server: HTTPServer
    private let uevents = Mutex<UeventMonitor?>(nil)

    /// Opens the database, the kernel and pci.ids. Throws `StartError` with one printable line.
    public init(configuration: Configuration) throws(StartError) {
        self.configuration = configuration
        database = try StartError.wrap("cannot open database \(configuration.databasePath)") {
            let database = try Database(path: configuration.databasePath)
            _ = try Migrator().apply(to: database)
            return database
        }
        let kernel: any HostKernel = try StartError.wrap("cannot load simulated host \(configuration.simulate ?? "")") {
            if let source = configuration.simulate { return try SimulatedKernel(source: source) }
            return LinuxKernel(paths: HostPaths(root: configuration.hostRoot))
        }
        self.kernel = kernel
        let names = PCINames.load(path: configuration.pciIDsPath)
        let builder = InventoryBuilder(allowlist: configuration.allowlist, names: names)
        let identities = DeviceIdentityStore(database: database)
        let storeProblem = Mutex<String?>(nil)
        let apiBox = Mutex<APIService?>(nil)
        inventory = InventoryService(kernel: kernel, builder: builder,
                                     intervalSeconds: configuration.refreshIntervalSeconds) { snapshot in
            apiBox.withLock { $0 }?.snapshotDidChange(snapshot)
            let problem = IdentityRecorder.record(snapshot, into: identities)
            storeProblem.withLock { $0 = problem }
        }
        let inventory = inventory
        let api = APIService(inventory: inventory, hostRoot: kernel.paths.root.isEmpty ? "/" : kernel.paths.root,
                         openAPIDocument: Array(PackageResources.openapi_yaml)) {
            storeProblem.withLock { $0 }.map { ["the database is failing: \($0)"] } ?? []
        }
        apiBox.withLock { $0 = api }
        self.api = api
        var http = HTTPServerConfiguration(host: configuration.listenHost, port: configuration.listenPort)
        http.threadPoolSize = configuration.httpThreads
        http.maxBodyBytes = configuration.maxBodyBytes
        http.connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
        http.connectionsPerIP = configuration.connectionsPerIP
        http.connectionLimit = configuration.connectionLimit
        if configuration.accessLog {
            http.accessLog = { entry in FileHandle.standardError.write(Data((entry.jsonLine + "\n").utf8)) }
        }
        http.errorLog = { message in Log.warning("http: \(message)") }
        server = HTTPServer(configuration: http) { request in await api.handle(request) }
    }

    /// Scans the host, then starts serving. Throws `StartError` with one printable line.
    public func start() throws(StartError) {
        try StartError.wrap("cannot read the host's PCI devices") { try inventory.start() }
        try StartError.wrap("cannot listen on \(configuration.listenAddress)") { try server.start() }
        if kernel.backend == "linux" {
            let monitor = UeventMonitor { [inventory] _ in inventory.requestRefresh() }
            if (try? monitor.start()) != nil { uevents.withLock { $0 = monitor } }
        }
    }

    /// The port the server listens on (the real one when configured with 0).
    public var port: UInt16 { server.port }

    /// Every route the API serves.
    public var routes: [(method: String, pattern: String)] { api.routes }

    /// Stops accepting, lets in-flight requests finish (up to `timeout`), then stops everything.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        await server.shutdown(timeout: timeout)
        uevents.withLock { $0?.stop(); $0 = nil }
        inventory.stop()
        (kernel as? SimulatedKernel)?.close()
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
