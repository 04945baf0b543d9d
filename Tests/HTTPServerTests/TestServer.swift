import HTTPServer
import TestSupport

/// Starts an `HTTPServer` on 127.0.0.1 port 0 for one test, runs `body`, and shuts it down.
func withServer(
    _ handler: @escaping HTTPHandler = sampleRouter().handle,
    configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer) async throws -> Void
) async throws {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    try server.start()
    do {
        try await body(server)
    } catch {
        await server.shutdown(timeout: .seconds(5))
        throw error
    }
    await server.shutdown(timeout: .seconds(5))
}

/// Runs one request from a fresh client on its own thread.
func fetch(_ server: HTTPServer, _ method: String = "GET", _ path: String,
           headers: [(String, String)] = [], body: [UInt8] = []) async throws -> TestResponse {
    let port = server.port
    return try await runOnDedicatedThread {
        try HTTPTestClient(port: port).request(method: method, path: path, headers: headers, body: body)
    }
}

/// Routes used by most tests.
func sampleRouter() -> Router {
    var router = Router()
    router.add("GET", "/v1/devices") { _ in .json(Array(#"{"items":[]}"#.utf8)) }
    router.add("GET", "/v1/devices/{address}") { request in
        let filter = request.queryValue("view") ?? "-"
        return .text("device \(request.pathParameters["address"] ?? "?") view \(filter)")
    }
    router.add("DELETE", "/v1/devices/{address}") { request in
        .text("deleted \(request.pathParameters["address"] ?? "?")", status: 202)
    }
    router.add("GET", "/v1/devices/{address}/reset-scope") { request in
        .text("scope of \(request.pathParameters["address"] ?? "?")")
    }
    router.add("GET", "/v1/audit/{id}") { request in .text("audit \(request.pathParameters["id"] ?? "?")") }
    router.add("GET", "/v1/audit/verify") { _ in .text("verify") }
    router.add("POST", "/v1/echo") { request in
        var headers: [(String, String)] = [("X-Method", request.method)]
        if let type = request.header("content-type") { headers.append(("X-Echo-Type", type)) }
        return HTTPResponse(status: 200, headers: headers + [("Content-Type", "application/octet-stream")],
                            body: request.body)
    }
    router.add("GET", "/v1/query") { request in
        .text(request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "|"))
    }
    router.add("GET", "/v1/fail") { _ in
        .problem(Problem(status: 409, code: "group_busy", title: "Group busy",
                         detail: "Group 7 is held by \"qemu\"\n(pid 42).",
                         extensions: [(name: "openers", value: .rawJSON(Array("[42]".utf8)))]))
    }
    return router
}
