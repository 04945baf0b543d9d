import HTTPServer
import TestSupport
import Testing

@Suite struct StreamTests {
    @Test func bytesArriveInOrderAsTheyAreSentAndFinishEndsTheResponse() async throws {
        let route = StreamRoute()
        var finished: StreamRoute.Opened?
        try await withServer(route.router.handle) { server in
            let port = server.port
            let client = StreamClient(port: port)
            let head = try await client.run { try $0.openStream(path: "/stream") }
            #expect(head.status == 200)
            #expect(head.header("Transfer-Encoding")?.lowercased() == "chunked")
            #expect(head.header("Content-Length") == nil)
            #expect(head.header("Content-Type") == "text/event-stream")
            let opened = try #require(await route.next())
            let start = try await client.run { try $0.readStream(byteCount: 6) }
            #expect(start == bytes("start\n"))

            // Each piece is read before the next is sent: it went out while the stream had nothing else.
            for index in 0..<20 {
                let piece = bytes("piece \(index)\n")
                #expect(opened.stream.send(piece) == .queued)
                let received = try await client.run { try $0.readStream(byteCount: piece.count) }
                #expect(received == piece)
            }
            // Many at once arrive whole and in order.
            var expected: [UInt8] = []
            for index in 0..<500 {
                let piece = bytes("burst \(index)\n")
                expected += piece
                #expect(opened.stream.send(piece) == .queued)
            }
            let total = expected.count
            let burst = try await client.run { try $0.readStream(byteCount: total) }
            #expect(burst == expected)

            opened.stream.finish(with: bytes("bye\n"))
            #expect(opened.stream.send(bytes("late")) == .ended)
            let (last, end) = try await client.run { client throws -> ([UInt8], [UInt8]?) in
                (try client.readStream(byteCount: 4), try client.readChunk())
            }
            #expect(last == bytes("bye\n"))
            #expect(end == nil)
            #expect(await opened.endReasons() == [.finished])
            #expect(server.openStreams == 0)
            opened.stream.finish(with: bytes("again"))
            finished = opened
        }
        // Nothing after the end (a second finish, the server's shutdown) ran onEnd again.
        #expect(finished?.calls.value == 1)
    }

    @Test func aStreamSentNothingForTheHeartbeatIntervalGetsHeartbeats() async throws {
        let route = StreamRoute(heartbeat: ": heartbeat\n\n")
        try await withServer(route.router.handle, configure: { $0.streamHeartbeatSeconds = 1 }) { server in
            let client = StreamClient(port: server.port)
            let heartbeat = bytes(": heartbeat\n\n")
            let received = try await client.run { client throws -> [[UInt8]] in
                _ = try client.openStream(path: "/stream")
                _ = try client.readStream(byteCount: 6)
                // Nothing else is sent: the next bytes can only be heartbeats.
                return [try client.readStream(byteCount: heartbeat.count), try client.readStream(byteCount: heartbeat.count)]
            }
            #expect(received == [heartbeat, heartbeat])
            // A stream without heartbeat bytes gets none: its reader meets the data sent after them.
            let opened = try #require(await route.next())
            #expect(opened.stream.send(bytes("data\n")) == .queued)
            let data = try await client.run { try $0.readStream(byteCount: 5) }
            #expect(data == bytes("data\n"))
        }
    }

    @Test func aClientThatNeverReadsMakesSendFullWithinTheCapacity() async throws {
        let route = StreamRoute(capacity: 4096, initial: "")
        try await withServer(route.router.handle) { server in
            let client = StreamClient(port: server.port)
            let head = try await client.run { try $0.openStream(path: "/stream") }
            #expect(head.status == 200)
            let opened = try #require(await route.next())
            // The client reads nothing more. Sends outpace the socket: the queue reaches its capacity
            // and sends are refused (until the socket takes bytes, which stops once its buffers are
            // full). The queue never holds more than the capacity.
            let piece = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
            var consecutiveFull = 0
            var attempts = 0
            var mostQueued = 0
            while consecutiveFull < 1000, attempts < 10_000_000 {
                attempts += 1
                switch opened.stream.send(piece) {
                case .full: consecutiveFull += 1
                case .queued: consecutiveFull = 0
                case .ended: attempts = 10_000_000
                }
                mostQueued = max(mostQueued, opened.stream.queuedBytes)
            }
            #expect(consecutiveFull == 1000)
            #expect(mostQueued <= 4096)
            try await client.run { $0.close() }
            #expect(await opened.endReasons() == [.clientGone])
            #expect(opened.stream.send(piece) == .ended)
        }
    }

    @Test func aClientThatGoesAwayEndsItsStreamAsClientGone() async throws {
        let route = StreamRoute()
        try await withServer(route.router.handle) { server in
            let client = StreamClient(port: server.port)
            _ = try await client.run { client throws -> [UInt8] in
                _ = try client.openStream(path: "/stream")
                return try client.readStream(byteCount: 6)
            }
            let opened = try #require(await route.next())
            #expect(server.openStreams == 1)
            // Nothing is sent: the connection is suspended when the client closes.
            try await client.run { $0.close() }
            #expect(await opened.endReasons() == [.clientGone])
            #expect(server.openStreams == 0)
            #expect(opened.stream.send(bytes("late")) == .ended)
            #expect(opened.calls.value == 1)
            // onEnd registered after the end runs at once with the same reason.
            let (late, lateContinuation) = AsyncStream<StreamEndReason>.makeStream()
            opened.stream.onEnd { lateContinuation.yield($0) }
            var iterator = late.makeAsyncIterator()
            #expect(await iterator.next() == .clientGone)
        }
    }
}
