import Foundation
import Testing
import App
import Inventory
import TestSupport
import VFIOCore
import VFIOSimulator
import Store

/// A real vfiod, in process, on 127.0.0.1 port 0 with a fresh SQLite file, and a way to talk to it.
final class TestService: @unchecked Sendable {
    let service: VFIOD
    let directory: TemporaryDirectory
    private var tree: TemporaryDirectory?

    /// Serves a simulated host from a topology file or sysfs directory.
    convenience init(simulate source: String, allow: [String] = ["all"], auth: Bool = false) async throws {
        var configuration = Configuration()
        configuration.simulate = source
        try await self.init(configuration, allow: allow, auth: auth)
    }

    /// Serves a fake tree written from `host` with the kernel's layout, read as a real host root.
    convenience init(host: HostSpec, allow: [String] = ["all"]) async throws {
        let tree = try FakeSysfs.make(host)
        var configuration = Configuration()
        configuration.hostRoot = tree.path
        try await self.init(configuration, allow: allow)
        self.tree = tree
    }

    /// Serves a simulated host written from `host`, in place, so tests can look at the tree it changes.
    convenience init(simulatedHost host: HostSpec, allow: [String] = ["all"], auth: Bool = false,
                     databaseDirectory: String? = nil, configure: (inout Configuration) -> Void = { _ in }) async throws {
        let tree = try FakeSysfs.make(host)
        var configuration = Configuration()
        configuration.simulate = tree.path
        configuration.simulateInPlace = true
        configure(&configuration)
        try await self.init(configuration, allow: allow, auth: auth, databaseDirectory: databaseDirectory)
        self.tree = tree
    }

    /// The simulated kernel, when there is one.
    var simulator: SimulatedKernel? { service.kernel as? SimulatedKernel }

    /// Serves an existing host root (a snapshot, or the machine's own `/`).
    convenience init(hostRoot: String, allow: [String] = ["all"]) async throws {
        var configuration = Configuration()
        configuration.hostRoot = hostRoot
        try await self.init(configuration, allow: allow)
    }

    /// Starts the service; `auth` keeps bearer tokens on (tests of access control), otherwise every
    /// request is an anonymous admin on this loopback listener.
    /// `databaseDirectory`: where the database goes (a test's own file system), else a temporary directory.
    init(_ base: Configuration, allow: [String], auth: Bool = false, databaseDirectory: String? = nil) async throws {
        directory = try TemporaryDirectory(prefix: "vfiod-e2e")
        var configuration = base
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.databasePath = (databaseDirectory ?? directory.path) + "/vfiod.db"
        configuration.accessLog = false
        configuration.refreshIntervalSeconds = 3600
        configuration.allowlist = Allowlist(try allow.map { try AllowSpec(parsing: $0) })
        configuration.authDisabled = !auth
        // A host root that is not a simulated tree may be a shared directory (a snapshot, this machine's /):
        // the holder socket goes in the test's own directory instead of its run/vfiod.
        if configuration.simulate == nil && configuration.holderSocket == nil {
            configuration.holderSocket = directory.path + "/holder.sock"
        }
        // Building the simulated tree and the first scan block: keep them off the cooperative pool,
        // which the servers of tests running in parallel need.
        let frozen = configuration
        service = try await runOnDedicatedThread {
            let service = try VFIOD(configuration: frozen)
            try service.start()
            return service
        }
    }

    var port: UInt16 { service.port }

    /// One request on a fresh connection, made on a dedicated thread (the client blocks).
    func get(_ path: String, headers: [(String, String)] = []) async throws -> TestResponse {
        try await request("GET", path, headers: headers)
    }

    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> TestResponse {
        let port = port
        return try await runOnDedicatedThread {
            let client = HTTPTestClient(port: port)
            defer { client.close() }
            return try client.request(method: method, path: path, headers: headers, body: body)
        }
    }

    /// A request with a JSON body; the response body parsed when it is JSON.
    func send(_ method: String, _ path: String, json: Any? = nil, headers: [(String, String)] = [],
              token: String? = nil) async throws -> (response: TestResponse, body: [String: Any]) {
        var all = headers
        if json != nil { all.append(("Content-Type", "application/json")) }
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        let bytes = try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try await request(method, path, headers: all, body: bytes)
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response, body)
    }

    /// Follows an operation to its end (long-poll) and returns it. One that succeeded says when it started
    /// and ended, in that order (its start may have committed with its end).
    func finish(operation location: String?, token: String? = nil) async throws -> [String: Any] {
        let path = try #require(location, "an Operation-Location header")
        for _ in 0..<20 {
            let (_, operation) = try await send("GET", path + "?wait=30", token: token)
            guard let state = operation["state"] as? String, state != "queued", state != "running" else { continue }
            if state == "succeeded" {
                let (started, finished) = (operation["startedAt"] as? String, operation["finishedAt"] as? String)
                #expect(started != nil && finished != nil && started! <= finished!, "\(operation)")
            }
            return operation
        }
        throw FixtureError("operation \(path) did not finish")
    }

    /// The body as a JSON object.
    func json(_ path: String) async throws -> [String: Any] {
        let response = try await get(path)
        #expect(response.status == 200, "\(path): \(response.status) \(response.bodyText)")
        return try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// Every item of a list route, following page tokens.
    func items(_ path: String) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var next: String? = nil
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let page = try await json(path + (next.map { "\(separator)pageToken=\($0)" } ?? ""))
            items += try #require(page["items"] as? [[String: Any]])
            next = page["nextPageToken"] as? String
        } while next != nil
        return items
    }

    func stop() async {
        await service.shutdown(timeout: .seconds(5))
        directory.remove()
        tree?.remove()
    }
}

/// Runs `body` against a started service and always stops it.
func withService<T>(_ service: TestService, _ body: (TestService) async throws -> T) async throws -> T {
    do {
        let result = try await body(service)
        await service.stop()
        return result
    } catch {
        await service.stop()
        throw error
    }
}
