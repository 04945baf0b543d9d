import API
import Assignments
import EventStream
import Foundation
import HTTPServer
import Inventory
import ServiceLog
import Store
import VFIOCore
import VFIOSimulator
import Workers

/// The builders of what faces HTTP: the API with its authentication and readiness, and the server.
extension VFIOD {
    /// The API: tokens (or none with `--no-auth`), worker metrics, and readiness.
    static func makeAPI(_ configuration: Configuration, inventory: InventoryService, assignments: AssignmentService,
                        database: Database, kernel: any HostKernel, workers: WorkerPool, tokens: StoreTokenVerifier?,
                        events: EventHub, late: LateBindings) -> APIService {
        let authentication: AuthenticationMode = tokens.map {
            .tokens(CertificateIdentityVerifier(tokens: $0, identities: configuration.tls.principals))
        } ?? .disabled
        return APIService(inventory: inventory, assignments: assignments, database: database,
                          hostRoot: kernel.paths.root.isEmpty ? "/" : kernel.paths.root,
                          openAPIDocument: Array(PackageResources.openapi_yaml), authentication: authentication,
                          events: events, eventBufferBytes: configuration.events.bufferBytes,
                          site: Dashboard.site(),
                          extraMetrics: {
                              WorkerMetrics.render(workers.stats) + WorkerMetrics.renderReleases(stuck: assignments.stuckReleases.count)
                                  + WorkerMetrics.renderEventStreams(events.subscriberCount)
                                  + WorkerMetrics.renderCommits(database.commitCounts)
                                  + ((kernel as? SimulatedKernel).map { WorkerMetrics.renderSimulator($0.cpu) } ?? "")
                          }) {
            readinessProblems(database: database, workers: workers, assignments: assignments, late: late)
        }
    }

    /// What keeps the service from being ready: a failing or unwritable database, stuck kernel operations,
    /// stuck releases. Empty means ready.
    static func readinessProblems(database: Database, workers: WorkerPool, assignments: AssignmentService,
                                          late: LateBindings) -> [String] {
        var problems = late.storeProblem.withLock { $0 }.map { ["the database is failing: \($0)"] } ?? []
        if let fault = database.writeFault {
            problems.append("the database cannot be written (\(fault.isStorageFull ? "its file system is full" : fault.message)); "
                            + "operations that could not journal resume once a write commits")
        }
        let stuck = workers.stats.stuckJobs
        if !stuck.isEmpty { problems.append("kernel operations stuck: " + stuck.map(\.label).joined(separator: ", ")) }
        let releases = assignments.stuckReleases
        if !releases.isEmpty {
            problems.append("releases stuck (openers kept the devices past releaseTimeoutSeconds): " + releases.joined(separator: ", "))
        }
        return problems
    }

    /// The HTTP server on the configured listener, limits, logs and TLS, handing every request to `api`.
    static func makeServer(_ configuration: Configuration, api: APIService) -> HTTPServer {
        var http = HTTPServerConfiguration(host: configuration.listenHost, port: configuration.listenPort)
        http.threadPoolSize = configuration.httpThreads
        http.maxBodyBytes = configuration.maxBodyBytes
        http.connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
        http.connectionsPerIP = configuration.connectionsPerIP
        http.connectionLimit = configuration.connectionLimit
        http.requestDeadline = .milliseconds(Int(configuration.requestDeadlineSeconds * 1000))
        http.corsAllowedOrigins = configuration.corsAllowedOrigins
        http.maxStreams = configuration.maxStreams
        http.streamHeartbeatSeconds = configuration.streamHeartbeatSeconds
        if configuration.accessLog {
            http.accessLog = { entry in FileHandle.standardError.write(Data((entry.jsonLine + "\n").utf8)) }
        }
        http.errorLog = { message in Log.warning("http: \(message)") }
        http.tls = configuration.tls.server
        return HTTPServer(configuration: http, immediate: { request in api.handleImmediately(request) }) { request in
            await api.handle(request)
        }
    }
}
