import Glibc
import HTTPServer
import TestSupport
import Testing

@Suite struct ConnectionTests {
    @Test func twoHundredParallelRequestsAreAllAnswered() async throws {
        try await withServer(configure: { $0.threadPoolSize = 2 }) { server in
            let port = server.port
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for thread in 0..<8 {
                    group.addTask {
                        try await runOnDedicatedThread {
                            let client = HTTPTestClient(port: port)
                            return try (0..<25).map { index in
                                let response = try client.request(path: "/v1/devices/t\(thread)-\(index)")
                                return response.bodyText == "device t\(thread)-\(index) view -" ? response.status : -1
                            }
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(statuses.count == 200)
            #expect(statuses.allSatisfy { $0 == 200 })
        }
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        try await withServer { server in
            let port = server.port
            let (first, second, connections) = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port)
                let first = try client.request(path: "/v1/devices")
                let second = try client.request(method: "POST", path: "/v1/echo", body: Array("hi".utf8))
                return (first, second, client.connectionsOpened)
            }
            #expect(first.status == 200)
            #expect(second.bodyText == "hi")
            #expect(connections == 1)
        }
    }

    @Test func pastThePerIPLimitAConnectionGets503OrHealth() async throws {
        var router = sampleRouter()
        router.add("GET", "/healthz") { _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
        try await withServer(router.handle, configure: { $0.connectionsPerIP = 2 }) { server in
            let port = server.port
            let (kept, refused, health) = try await runOnDedicatedThread {
                let first = HTTPTestClient(port: port)
                let second = HTTPTestClient(port: port)
                // Both connections stay open (keep-alive) after their first request.
                _ = try first.request(path: "/v1/devices")
                _ = try second.request(path: "/v1/devices")
                let refused = try HTTPTestClient(port: port).request(path: "/v1/devices")
                let health = try HTTPTestClient(port: port).request(path: "/healthz")
                let kept = try [first.request(path: "/v1/devices").status, second.request(path: "/v1/devices").status]
                return (kept, refused, health)
            }
            #expect(kept == [200, 200])
            #expect(refused.status == 503)
            #expect(refused.header("Content-Type") == "application/problem+json")
            #expect(refused.bodyText.contains(#""code":"too_many_connections""#))
            #expect(refused.header("Retry-After") == "10")
            #expect(refused.header("Connection") == "close")
            #expect(refused.header("X-Request-Id") != nil)
            #expect(health.status == 200)
            #expect(health.header("Connection") == "close")
        }
    }

    @Test func startOnABusyPortFailsClearly() async throws {
        try await withServer { server in
            var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: server.port)
            configuration.threadPoolSize = 1
            let second = HTTPServer(configuration: configuration) { _ in .text("") }
            let error = #expect(throws: HTTPServerError.self) { try second.start() }
            #expect(error?.description == "cannot listen on 127.0.0.1:\(server.port): address already in use")
            #expect(error?.errno == EADDRINUSE)
        }
    }

    @Test func listensOnIPv6Literal() async throws {
        try await withServer(configure: { $0.host = "::1" }) { server in
            #expect(server.port != 0)
            let port = server.port
            let response = try await runOnDedicatedThread {
                try HTTPTestClient(host: "::1", port: port).request(path: "/v1/devices")
            }
            #expect(response.status == 200)
            #expect(response.bodyText == #"{"items":[]}"#)
        }
    }
}
