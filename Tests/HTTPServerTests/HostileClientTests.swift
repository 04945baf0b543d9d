@testable import HTTPServer
import TestSupport
import Testing

/// Clients that send slowly, half-close, or frame their requests oddly: each gets an answer (or a
/// closed connection) at once, never a connection held without a word.
@Suite struct HostileClientTests {
    /// The sample routes plus `/healthz`.
    /// A server with `/healthz`, a per-address limit and a request deadline.
    static func withHealthServer(connectionsPerIP: Int, deadlineSeconds: Int,
                                 _ body: (HTTPServer) async throws -> Void) async throws {
        try await withServer(routerWithHealth().handle, configure: {
            $0.connectionsPerIP = connectionsPerIP
            $0.requestDeadline = .seconds(deadlineSeconds)
        }, body)
    }

    static func routerWithHealth() -> Router {
        var router = sampleRouter()
        router.add("GET", "/healthz") { _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
        return router
    }

    /// Sends `head` at once, then `trickle` a byte at a time, ten a second, until an answer can be read
    /// (at most 30 s of bytes); returns that answer. The connection first serves one whole request, so
    /// it is admitted as an ordinary one before the trickle starts.
    static func trickle(port: UInt16, head: String, trickle: String) throws -> TestResponse {
        let client = HTTPTestClient(port: port)
        _ = try client.request(path: "/v1/devices")
        try client.sendRaw(Array(head.utf8))
        let bytes = Array(trickle.utf8)
        for index in 0..<300 {
            do { try client.sendRaw([bytes[index % bytes.count]]) } catch { break }
            if client.waitReadable(milliseconds: 100) { break }
        }
        return try client.readResponse()
    }

    @Test func tricklersAreCutAtTheDeadlineWhileHealthIsStillServed() async throws {
        try await Self.withHealthServer(connectionsPerIP: 3, deadlineSeconds: 1) { server in
            let port = server.port
            let tricklers = (0..<3).map { index in
                index == 0 ? ("", "GET /v1/devices HTTP/1.1\r\nHost: t\r\nX-Pad: 0123456789\r\n")
                    : ("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", "x")
            }
            async let cut = withThrowingTaskGroup(of: TestResponse.self) { group in
                for (head, body) in tricklers {
                    group.addTask { try await runOnDedicatedThread { try Self.trickle(port: port, head: head, trickle: body) } }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            let answers = try await cut
            #expect(answers.map(\.status) == [408, 408, 408])
            // The request-line trickler is cut before its path is known; the others name theirs.
            #expect(answers.filter { $0.bodyText.contains(#""instance":"*""#) }.count == 1)
            #expect(answers.filter { $0.bodyText.contains(#""instance":"/v1/echo""#) }.count == 2)
            for answer in answers {
                #expect(answer.header("Content-Type") == "application/problem+json")
                #expect(answer.bodyText.contains(#""code":"request_timeout""#))
                #expect(answer.header("Connection") == "close")
                #expect(answer.header("X-Request-Id") != nil)
            }
            let health = try await fetch(server, "GET", "/healthz")
            #expect(health.status == 200)
        }
    }

    @Test func healthIsServedWhileTricklersHoldEveryOrdinaryConnection() async throws {
        try await Self.withHealthServer(connectionsPerIP: 2, deadlineSeconds: 3) { server in
            let port = server.port
            // Two tricklers hold the address's ordinary connections; each has served one request first.
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            async let cut = withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await runOnDedicatedThread {
                            let client = HTTPTestClient(port: port)
                            _ = try client.request(path: "/v1/devices")
                            try client.sendRaw(Array("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n".utf8))
                            readyContinuation.yield()
                            var sent = 0
                            while !client.waitReadable(milliseconds: 100), sent < 8 {
                                try client.sendRaw(Array("x".utf8))
                                sent += 1
                            }
                            return try client.readResponse()
                        }
                    }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            var iterator = ready.makeAsyncIterator()
            _ = await iterator.next()
            _ = await iterator.next()
            let health = try await fetch(server, "GET", "/healthz")
            let refused = try await fetch(server, "GET", "/v1/devices")
            #expect(health.status == 200)
            #expect(refused.status == 503)
            #expect(refused.bodyText.contains(#""code":"too_many_connections""#))
            #expect(refused.header("Retry-After") == "3")
            let answers = try await cut
            #expect(answers.map(\.status) == [408, 408])
        }
    }

    @Test func aFloodOfIdleConnectionsDoesNotKeepHealthOut() async throws {
        try await withServer(Self.routerWithHealth().handle, configure: {
            $0.connectionsPerIP = 2
            $0.reserveConnections = 8
            $0.reserveIdleSeconds = 600  // only eviction may close the idle reserve connections here
        }) { server in
            let port = server.port
            let health = try await runOnDedicatedThread {
                let ordinary = [HTTPTestClient(port: port), HTTPTestClient(port: port)]
                for client in ordinary { _ = try client.request(path: "/v1/devices") }
                let flood = (0..<20).map { _ in HTTPTestClient(port: port, receiveTimeoutSeconds: 20) }
                for client in flood { try client.connect() }
                // Half the reserve (4) stays; every other flood connection is shut (evicted or refused).
                var open = flood
                var closed = 0
                for _ in 0..<400 where closed < 16 {
                    let before = open.count
                    open.removeAll { $0.waitReadable(milliseconds: 0) }
                    closed += before - open.count
                    if closed < 16, let first = open.first { _ = first.waitReadable(milliseconds: 50) }
                }
                // A flood connection shut by vfiod counts against libmicrohttpd's own per-address limit until
                // libmicrohttpd has closed it: wait for that (2 ordinary and 4 reserve left), so the health
                // check meets the reserve rather than that limit (past it, a connection is closed unanswered).
                for _ in 0..<10_000 where server.openConnectionCount > 6 { _ = open.first?.waitReadable(milliseconds: 1) }
                return (closed, try HTTPTestClient(port: port).request(path: "/healthz").status)
            }
            #expect(health.0 == 16)
            #expect(health.1 == 200)
        }
    }

    @Test func aHalfCloseInsideTheHeadersClosesTheConnectionAtOnce() async throws {
        try await withServer(configure: { $0.connectionTimeoutSeconds = 120 }) { server in
            let port = server.port
            let received = try await runOnDedicatedThread {
                // The guard (20 s) is shorter than the idle timeout: only the fix closes in time.
                let client = HTTPTestClient(port: port, receiveTimeoutSeconds: 20)
                try client.sendRaw(Array("GET /v1/devices HTTP/1.1\r\nHost: t\r\nX-Par".utf8))
                client.shutdownSending()
                return try client.readUntilClosed()
            }
            #expect(received.isEmpty)
        }
    }

    @Test(arguments: [
        ("Transfer-Encoding: identity", 400, "malformed_framing"),
        ("Transfer-Encoding: gzip, chunked", 501, "unsupported_transfer_encoding"),
        ("Transfer-Encoding: chunked\r\nContent-Length: 3", 400, "malformed_framing"),
        ("Content-Length: 3\r\nContent-Length: 3", 400, "malformed_framing"),
    ])
    func oddFramingIsAnsweredAtOnce(header: String, status: Int, code: String) async throws {
        try await withServer(configure: { $0.connectionTimeoutSeconds = 120 }) { server in
            let port = server.port
            let response = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port, receiveTimeoutSeconds: 20)
                try client.sendRaw(Array("POST /v1/echo HTTP/1.1\r\nHost: t\r\n\(header)\r\n\r\nabc".utf8))
                return try client.readResponse()
            }
            #expect(response.status == status)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.bodyText.contains(#""code":"\#(code)""#))
            #expect(response.header("Connection") == "close")
        }
    }

    @Test func aChunkedBodyFarOverTheCapGets413() async throws {
        try await withServer { server in
            let port = server.port
            let response = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port)
                try client.sendRaw(Array("POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
                let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x78, count: 65536) + Array("\r\n".utf8)
                for _ in 0..<(12 * 16) { try client.sendRaw(chunk) }  // 12 MiB
                try client.sendRaw(Array("0\r\n\r\n".utf8))
                return try client.readResponse()
            }
            #expect(response.status == 413)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.bodyText.contains(#""code":"payload_too_large""#))
        }
    }
}
