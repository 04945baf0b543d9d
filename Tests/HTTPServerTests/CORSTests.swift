import HTTPServer
import TestSupport
import Testing

@Suite struct CORSTests {
    private static let allowed = "https://ui.example:8443"

    @Test func anAllowedOriginGetsTheCORSHeadersOnEveryAnswer() async throws {
        let route = StreamRoute()
        try await withServer(route.router.handle, configure: { $0.corsAllowedOrigins = [Self.allowed] }) { server in
            for path in ["/v1/devices", "/v1/nowhere"] {
                let response = try await fetch(server, "GET", path, headers: [("Origin", Self.allowed)])
                #expect(response.header("Access-Control-Allow-Origin") == Self.allowed)
                #expect(response.header("Vary") == "Origin")
                #expect(response.header("Access-Control-Expose-Headers")
                        == "ETag, X-Vfiod-Cursor, Retry-After, X-Request-Id, Location")
            }
            let client = StreamClient(port: server.port)
            let head = try await client.run { try $0.openStream(path: "/stream", headers: [("Origin", Self.allowed)]) }
            #expect(head.header("Access-Control-Allow-Origin") == Self.allowed)

            let other = try await fetch(server, "GET", "/v1/devices", headers: [("Origin", "https://evil.example")])
            #expect(other.status == 200)
            #expect(other.header("Access-Control-Allow-Origin") == nil)
            #expect(other.header("Vary") == nil)
        }
    }

    @Test func aPreflightFromAnAllowedOriginIsAnswered204AndFromAnyOtherRefused403() async throws {
        try await withServer(configure: { $0.corsAllowedOrigins = [Self.allowed] }) { server in
            let preflight = [("Access-Control-Request-Method", "DELETE"),
                             ("Access-Control-Request-Headers", "authorization, if-match")]
            let allowed = try await fetch(server, "OPTIONS", "/v1/devices/x", headers: [("Origin", Self.allowed)] + preflight)
            #expect(allowed.status == 204)
            #expect(allowed.header("Access-Control-Allow-Origin") == Self.allowed)
            #expect(allowed.header("Access-Control-Allow-Methods")?.contains("DELETE") == true)
            #expect(allowed.header("Access-Control-Allow-Headers")
                    == "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID")
            #expect(allowed.header("Access-Control-Max-Age") == "600")

            let refused = try await fetch(server, "OPTIONS", "/v1/devices/x",
                                          headers: [("Origin", "https://evil.example")] + preflight)
            #expect(refused.status == 403)
            #expect(refused.bodyText.contains(#""code":"cors_origin_refused""#))
            #expect(refused.header("Access-Control-Allow-Origin") == nil)

            // A plain OPTIONS (no Access-Control-Request-Method) is the router's, as before.
            let plain = try await fetch(server, "OPTIONS", "/v1/devices/x", headers: [("Origin", Self.allowed)])
            #expect(plain.status == 204)
            #expect(plain.header("Allow") == "GET, DELETE, HEAD, OPTIONS")
        }
    }

    @Test func withoutAllowedOriginsNoCORSHeadersAreSent() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/devices", headers: [("Origin", Self.allowed)])
            #expect(response.header("Access-Control-Allow-Origin") == nil)
            let preflight = try await fetch(server, "OPTIONS", "/v1/devices/x", headers: [
                ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET"),
            ])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == nil)
            #expect(preflight.header("Access-Control-Allow-Methods") == nil)
        }
    }
}
