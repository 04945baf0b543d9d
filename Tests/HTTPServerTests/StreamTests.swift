import HTTPServer
import TestSupport
import Testing

@Suite struct StreamTests {
    @Test func bytesArriveInOrderAsTheyAreSentAndFinishEndsTheResponse() async throws {
        let route = StreamRoute()
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
        }
    }
}
