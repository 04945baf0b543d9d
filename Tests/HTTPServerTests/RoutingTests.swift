import HTTPServer
import TestSupport
import Testing

@Suite struct RoutingTests {
    @Test func routesWithPercentDecodedPathParameters() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/devices/0000%3A41%3A00.0?view=full%20list")
            #expect(response.status == 200)
            #expect(response.bodyText == "device 0000:41:00.0 view full list")
            #expect(response.header("content-type") == "text/plain; charset=utf-8")
            let scope = try await fetch(server, "GET", "/v1/devices/0000:41:00.0/reset-scope")
            #expect(scope.bodyText == "scope of 0000:41:00.0")
            let deleted = try await fetch(server, "DELETE", "/v1/devices/abc")
            #expect(deleted.status == 202)
            #expect(deleted.bodyText == "deleted abc")
        }
    }

    @Test func literalSegmentsWinOverParameters() async throws {
        try await withServer { server in
            let verify = try await fetch(server, "GET", "/v1/audit/verify")
            let audit = try await fetch(server, "GET", "/v1/audit/17")
            #expect(verify.bodyText == "verify")
            #expect(audit.bodyText == "audit 17")
        }
    }

    @Test func unknownPathIs404Problem() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/nothing/here")
            #expect(response.status == 404)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.bodyText.contains(#""code":"route_not_found""#))
            #expect(response.bodyText.contains(#""instance":"/v1/nothing/here""#))
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await withServer { server in
            let response = try await fetch(server, "PUT", "/v1/devices/abc", body: Array("x".utf8))
            #expect(response.status == 405)
            #expect(response.header("Allow") == "GET, DELETE, HEAD, OPTIONS")
            #expect(response.bodyText.contains(#""code":"method_not_allowed""#))
        }
    }

    @Test func headUsesGetHandlerWithoutBody() async throws {
        try await withServer { server in
            let get = try await fetch(server, "GET", "/v1/devices/abc")
            let head = try await fetch(server, "HEAD", "/v1/devices/abc")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Length") == String(get.body.count))
            #expect(get.body.count > 0)
        }
    }

    @Test func optionsAnswers204WithAllow() async throws {
        try await withServer { server in
            let response = try await fetch(server, "OPTIONS", "/v1/devices")
            #expect(response.status == 204)
            #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
            let unknown = try await fetch(server, "OPTIONS", "/v1/unknown")
            #expect(unknown.status == 404)
        }
    }

    @Test func postBodyReachesHandler() async throws {
        try await withServer { server in
            let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
            let response = try await fetch(server, "POST", "/v1/echo",
                                           headers: [("Content-Type", "application/json")], body: payload)
            #expect(response.status == 200)
            #expect(response.body == payload)
            #expect(response.header("X-Method") == "POST")
            #expect(response.header("X-Echo-Type") == "application/json")
        }
    }

    @Test func routesListsWhatWasAdded() {
        var router = Router()
        router.add("get", "/a/{x}") { _ in .text("") }
        router.add("POST", "/a/{x}/b") { _ in .text("") }
        #expect(router.routes.map { "\($0.method) \($0.pattern)" } == ["GET /a/{x}", "POST /a/{x}/b"])
    }

    @Test func aPathChangedAfterParsingIsRoutedAsChanged() async throws {
        // The server hands the router the segments it split; a handler that rewrites the path and routes
        // again must be routed on the new path, not on the old split.
        var inner = Router()
        inner.add("GET", "/a/{x}") { request in .text("a \(request.pathParameters["x"] ?? "")") }
        inner.add("GET", "/b/{y}") { request in .text("b \(request.pathParameters["y"] ?? "")") }
        let router = inner
        try await withServer({ request in
            var rewritten = request
            rewritten.path = "/b/2%20c"
            return await router.handle(rewritten)
        }) { server in
            let response = try await fetch(server, "GET", "/a/1")
            #expect(response.bodyText == "b 2 c")
        }
    }
}
