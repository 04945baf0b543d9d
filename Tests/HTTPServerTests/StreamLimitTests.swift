import HTTPServer
import TestSupport
import Testing

@Suite struct StreamLimitTests {
    @Test func pastMaxStreamsAStreamIsRefusedWhileOrdinaryRequestsAreServed() async throws {
        let route = StreamRoute()
        try await withServer(route.router.handle, configure: {
            $0.connectionLimit = 3
            $0.maxStreams = 2
        }) { server in
            let port = server.port
            var streams: [StreamRoute.Opened] = []
            for _ in 0..<2 {
                let client = StreamClient(port: port)
                let start = try await client.run { client throws -> [UInt8] in
                    _ = try client.openStream(path: "/stream")
                    return try client.readStream(byteCount: 6)
                }
                #expect(start == bytes("start\n"))
                streams.append(try #require(await route.next()))
            }
            #expect(server.openStreams == 2)
            // The two streams are out of the ordinary pool: it still takes its three connections...
            let ordinary = (0..<3).map { _ in StreamClient(port: port) }
            for client in ordinary {
                let response = try await client.run { try $0.request(path: "/v1/devices") }
                #expect(response.status == 200)
            }
            // ...and is full now: a fourth connection is a reserve one.
            let reserve = try await fetch(server, "GET", "/v1/devices")
            #expect(reserve.status == 503)
            #expect(reserve.bodyText.contains(#""code":"too_many_connections""#))

            // A third stream is refused; its connection goes on serving.
            let refused = try await ordinary[0].run { try $0.request(path: "/stream") }
            #expect(refused.status == 503)
            #expect(refused.bodyText.contains(#""code":"too_many_streams""#))
            #expect(refused.header("Retry-After") == "5")
            let third = try #require(await route.next())
            #expect(await third.endReasons() == [.refused])
            #expect(third.calls.value == 1)
            #expect(third.stream.send(bytes("x")) == .ended)
            let after = try await ordinary[0].run { try $0.request(path: "/v1/devices") }
            #expect(after.status == 200)

            // The first streams still flow.
            #expect(streams[0].stream.send(bytes("more\n")) == .queued)
            #expect(server.openStreams == 2)
        }
    }

    @Test func aStreamOutlivesTheRequestDeadlineAndTheIdleTimeout() async throws {
        let route = StreamRoute()
        try await withServer(route.router.handle, configure: {
            $0.requestDeadline = .seconds(1)
            $0.connectionTimeoutSeconds = 1
            $0.streamHeartbeatSeconds = 0
        }) { server in
            let port = server.port
            let client = StreamClient(port: port)
            _ = try await client.run { client throws -> [UInt8] in
                _ = try client.openStream(path: "/stream")
                return try client.readStream(byteCount: 6)
            }
            let opened = try #require(await route.next())
            // Clocks read by reading: a request that never completes is cut at the deadline, and an idle
            // connection is closed at the idle timeout; the stream, sent nothing meanwhile, outlives both.
            let (late, idle) = try await runOnDedicatedThread { () throws -> (TestResponse, [UInt8]) in
                let idler = HTTPTestClient(port: port)
                try idler.connect()
                let trickler = HTTPTestClient(port: port)
                try trickler.sendRaw(Array("GET /v1/devices HTTP/1.1\r\nHost: x\r\nX-Pad: ".utf8))
                // A byte every 100 ms keeps the trickler clear of the idle timeout until its 408 arrives.
                var sent = 0
                while !trickler.waitReadable(milliseconds: 100), sent < 600 {
                    try trickler.sendRaw(Array("x".utf8))
                    sent += 1
                }
                return (try trickler.readResponse(), try idler.readUntilClosed())
            }
            #expect(late.status == 408)
            #expect(idle.isEmpty)
            #expect(opened.stream.send(bytes("still here\n")) == .queued)
            let data = try await client.run { try $0.readStream(byteCount: 11) }
            #expect(data == bytes("still here\n"))
            #expect(server.openStreams == 1)
        }
    }

    @Test func shutdownSendsEachStreamItsFarewellThenEndsIt() async throws {
        let route = StreamRoute(farewell: "event: shutdown\ndata: {}\n\n")
        let server = HTTPServer(configuration: HTTPServerConfiguration(), handler: route.router.handle)
        try server.start()
        let clients = [StreamClient(port: server.port), StreamClient(port: server.port)]
        var streams: [StreamRoute.Opened] = []
        for client in clients {
            _ = try await client.run { client throws -> [UInt8] in
                _ = try client.openStream(path: "/stream")
                return try client.readStream(byteCount: 6)
            }
            streams.append(try #require(await route.next()))
        }
        // One stream has bytes waiting when shutdown begins: they go before the farewell.
        #expect(streams[1].stream.send(bytes("pending\n")) == .queued)

        let shutdown = Task { await server.shutdown(timeout: .seconds(30)) }
        let farewell = bytes("event: shutdown\ndata: {}\n\n")
        let first = try await clients[0].run { client throws -> ([UInt8], [UInt8]?, [UInt8]) in
            (try client.readStream(byteCount: farewell.count), try client.readChunk(), try client.readUntilClosed())
        }
        #expect(first.0 == farewell)
        #expect(first.1 == nil)
        #expect(first.2.isEmpty)
        let second = try await clients[1].run { client throws -> ([UInt8], [UInt8]?) in
            (try client.readStream(byteCount: 8 + farewell.count), try client.readChunk())
        }
        #expect(second.0 == bytes("pending\n") + farewell)
        #expect(second.1 == nil)
        await shutdown.value
        for opened in streams {
            #expect(await opened.endReasons() == [.shutdown])
            #expect(opened.stream.send(bytes("late")) == .ended)
            #expect(opened.calls.value == 1)
        }
        #expect(server.inFlight == 0)
    }
}
