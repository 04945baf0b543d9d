public import HTTPServer
public import Inventory
public import Assignments
import VFIOCore
import Foundation
import Synchronization
import Assignments
public import Store
public import EventStream

/// The vfiod API: routes, their handlers, metrics, and the pre-encoded inventory they serve.
///
/// Knows HTTP and the inventory model; knows nothing of sysfs. The app builds it, hands it each new
/// snapshot (`snapshotDidChange`) and mounts `handle` as the HTTP server's handler.
public final class APIService: Sendable {
    /// Request metrics.
    public let metrics: Metrics
    private let router: Router
    private let context: APIContext

    /// Creates the API over `inventory`. `readinessProblems` lists what keeps the service from being ready
    /// (database, refresh failures); empty means ready.
    /// `events` is the event hub behind `GET /v1/events`; `events.bufferBytes` bounds each stream's queue.
    /// `site`, when given, is served at `/ui/` (the dashboard).
    public init(inventory: InventoryService, assignments: AssignmentService, database: Database, hostRoot: String,
                openAPIDocument: [UInt8], authentication: AuthenticationMode, events: EventHub, eventBufferBytes: Int,
                site: StaticSite? = nil,
                extraMetrics: @escaping @Sendable () -> String = { "" },
                readinessProblems: @escaping @Sendable () -> [String] = { [] }) {
        let context = APIContext(inventory: inventory, assignments: assignments, database: database, hostRoot: hostRoot,
                                 openAPIDocument: openAPIDocument, authentication: authentication,
                                 events: events, eventBufferBytes: eventBufferBytes,
                                 extraMetrics: extraMetrics, readinessProblems: readinessProblems)
        var routes = RouteTable(context: context)
        routes.addInventoryRoutes()
        routes.addOperationalRoutes()
        routes.addAssignmentRoutes()
        routes.addAttachRoutes()
        routes.addResetRoutes()
        routes.addAuditRoutes()
        routes.addTokenRoutes()
        routes.addEventRoutes()
        routes.addWhoAmIRoute()
        routes.addAssignmentOperationsRoute()
        if let site { routes.addSiteRoutes(site) }
        self.context = context
        self.metrics = context.metrics
        self.router = routes.router
    }

    /// Encodes a new snapshot and publishes what changed to the event stream; call on the refresh
    /// thread, in generation order, so requests only copy bytes. `fullScan`: the snapshot is a full scan.
    public func snapshotDidChange(_ snapshot: InventorySnapshot, fullScan: Bool = false) {
        context.snapshotDidChange(snapshot, fullScan: fullScan)
    }

    /// Every route, as `METHOD /pattern`, for the contract test against `openapi/openapi.yaml`.
    public var routes: [(method: String, pattern: String)] { router.routes }

    /// Answers one request: routing, handlers, metrics.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let label = RouteLabel()
        let response = await RouteLabel.$current.withValue(label) { await router.handle(request) }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.observe(route: label.route ?? "unmatched", method: request.method, status: response.status, seconds: seconds)
        return response
    }

    /// Answers a cached read at once, on the server's thread, when it needs nothing that can wait (the
    /// caller is known without a token lookup): the same response `handle` would give, counted the same
    /// way. Nil: the request goes to `handle`.
    public func handleImmediately(_ request: HTTPRequest) -> HTTPResponse? {
        let started = ContinuousClock.now
        guard let (route, response) = router.handleImmediately(request) else { return nil }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.observe(route: route, method: request.method, status: response.status, seconds: seconds)
        return response
    }
}

/// What the handlers share: the inventory, its encoded form, metrics and the contract document.
final class APIContext: Sendable {
    let metrics = Metrics()
    let inventory: InventoryService
    let assignments: AssignmentService
    let database: Database
    let authentication: AuthenticationMode
    let hostRoot: String
    let openAPIDocument: [UInt8]
    let readinessProblems: @Sendable () -> [String]
    let extraMetrics: @Sendable () -> String
    /// The event hub, and the most bytes a stream may queue for a reader.
    let events: EventHub
    let eventBufferBytes: Int
    /// One-use tickets that open an event stream without an `Authorization` header.
    let tickets = EventTickets()
    /// Single assignments kept while the database is unchanged.
    let assignmentReads: AssignmentReadCache
    private let encoded = Mutex<EncodedInventory?>(nil)

    init(inventory: InventoryService, assignments: AssignmentService, database: Database, hostRoot: String,
         openAPIDocument: [UInt8], authentication: AuthenticationMode, events: EventHub, eventBufferBytes: Int,
         extraMetrics: @escaping @Sendable () -> String,
         readinessProblems: @escaping @Sendable () -> [String]) {
        self.events = events
        self.eventBufferBytes = eventBufferBytes
        self.extraMetrics = extraMetrics
        self.inventory = inventory
        self.assignments = assignments
        self.database = database
        self.authentication = authentication
        self.hostRoot = hostRoot
        self.openAPIDocument = openAPIDocument
        self.readinessProblems = readinessProblems
        self.assignmentReads = AssignmentReadCache(databasePath: database.path)
    }

    /// The hosts a `callbackUrl` may name.
    var callbackHosts: CallbackHosts { assignments.callbackHosts }

    func snapshotDidChange(_ snapshot: InventorySnapshot, fullScan: Bool) {
        let previous = encoded.withLock { $0 }
        let next = EncodedInventory(snapshot: snapshot, hostRoot: hostRoot, previous: previous)
        if (previous?.snapshot.generation ?? 0) < snapshot.generation {
            let tenants = assignments.liveAssignmentTenants
            let drafts = InventoryEvents.drafts(from: previous, to: next, fullScan: fullScan) { tenants[$0] }
            next.cursor = drafts.isEmpty ? events.current : events.publish(drafts)
        }
        encoded.withLock { current in
            if (current?.snapshot.generation ?? 0) < snapshot.generation { current = next }
        }
    }

    /// The current encoded snapshot.
    var current: EncodedInventory {
        get throws(APIError) {
            guard let current = encoded.withLock({ $0 }) else { throw .notReady("the first inventory scan has not finished") }
            return current
        }
    }

    static func problem(_ error: APIError, _ request: HTTPRequest) -> HTTPResponse {
        var problem = Problem(status: error.status, code: error.code, title: error.title, detail: error.detail,
                              instance: request.path)
        problem.extensions = error.extensions
        // Set here, not left to the server: a stored idempotent response carries its body as bytes.
        problem.requestID = request.requestID
        var headers = error.headers
        if error.status == 401 { headers.append(("WWW-Authenticate", "Bearer realm=\"vfiod\"")) }
        return .problem(problem, headers: headers)
    }

    /// A cached body as `200` with its ETag, or `304` when the client already has it.
    func conditional(_ body: EncodedBody, _ request: HTTPRequest) -> HTTPResponse {
        if ETag.matches(request.header("If-None-Match"), body.etag) {
            return HTTPResponse(status: 304, headers: [("ETag", body.etag)], body: [])
        }
        var response = HTTPResponse.json(body.bytes)
        response.headers.append(("ETag", body.etag))
        return response
    }
}

/// Collects the routes while the API is assembled.
struct RouteTable {
    let context: APIContext
    var router = Router()

    /// Registers a handler that may throw an `APIError`, which becomes a problem+json response.
    /// The request is authenticated and checked against `permission` first. `immediate`, when given,
    /// is offered the request first on the server's own thread when the caller is known at once (see
    /// `authenticateImmediately`); it answers from memory or returns nil to leave it to `handler`.
    mutating func route(_ method: String, _ pattern: String, _ permission: Permission,
                        immediate: (@Sendable (HTTPRequest, Principal) -> HTTPResponse?)? = nil,
                        _ handler: @escaping @Sendable (HTTPRequest, Principal) async throws(APIError) -> HTTPResponse) {
        let context = context
        var fast: ImmediateHandler?
        if let immediate {
            fast = { request in Self.answerImmediately(request, context, permission, immediate) }
        }
        router.add(method, pattern, immediate: fast) { request in
            RouteLabel.current?.route = pattern
            do throws(APIError) {
                let principal = try await context.authenticate(request, permission)
                return try await handler(request, principal)
            } catch {
                return APIContext.problem(error, request)
            }
        }
    }

    /// `immediate`'s answer when the caller is known at once; a refused caller's problem; else nil.
    private static func answerImmediately(_ request: HTTPRequest, _ context: APIContext, _ permission: Permission,
                                          _ immediate: (HTTPRequest, Principal) -> HTTPResponse?) -> HTTPResponse? {
        let principal: Principal?
        do throws(APIError) {
            principal = try context.authenticateImmediately(request, permission)
        } catch {
            return APIContext.problem(error, request)
        }
        return principal.flatMap { immediate(request, $0) }
    }

    /// Registers a read served from memory: `handler` never waits, so it runs on the immediate path too.
    mutating func cachedRoute(_ method: String, _ pattern: String, _ permission: Permission,
                              _ handler: @escaping @Sendable (HTTPRequest, Principal) throws(APIError) -> HTTPResponse) {
        let immediate: @Sendable (HTTPRequest, Principal) -> HTTPResponse? = { request, principal in
            do throws(APIError) {
                return try handler(request, principal)
            } catch {
                return APIContext.problem(error, request)
            }
        }
        route(method, pattern, permission, immediate: immediate) { request, principal throws(APIError) in
            try handler(request, principal)
        }
    }
}

/// The route pattern a request matched, passed from the route wrapper back to the metrics.
final class RouteLabel: @unchecked Sendable {
    // Written once by the route wrapper and read after `router.handle` returned, in the same task.
    var route: String?
    @TaskLocal static var current: RouteLabel?
}
