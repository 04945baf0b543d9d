import Glibc
@testable import HTTPServer
import TestSupport
import Testing

/// Byte arrays queued as they are (shared by many streams), and the write buffer's pages an idle stream
/// gives back.
@Suite struct StreamPartsTests {
    @Test func partsArriveWholeAndInOrderAndAreQueuedAllOrNone() async throws {
        let route = StreamRoute(capacity: 4096, initial: "")
        try await withServer(route.router.handle) { server in
            let client = StreamClient(port: server.port)
            let head = try await client.run { try $0.openStream(path: "/stream") }
            #expect(head.status == 200)
            let opened = try #require(await route.next())
            // Together over the capacity: nothing is queued, not even the first part, which would fit.
            let first = [UInt8](repeating: UInt8(ascii: "a"), count: 3000)
            #expect(opened.stream.send(contentsOf: [first, [UInt8](repeating: UInt8(ascii: "b"), count: 2000)]) == .full)
            #expect(opened.stream.queuedBytes == 0)
            // Parts that fit go out in order, one split over several reads of the content reader.
            let parts = [bytes("one\n"), first, [], bytes("three\n")]
            #expect(opened.stream.send(contentsOf: parts) == .queued)
            let expected = parts.flatMap { $0 }
            let received = try await client.run { try $0.readStream(byteCount: expected.count) }
            #expect(received == expected)
            opened.stream.finish(with: nil)
            #expect(opened.stream.send(contentsOf: [bytes("late")]) == .ended)
        }
    }

    @Test func aPartLargerThanOneReadArrivesWhole() async throws {
        let route = StreamRoute(capacity: 1 << 20, initial: "")
        try await withServer(route.router.handle) { server in
            let client = StreamClient(port: server.port)
            _ = try await client.run { try $0.openStream(path: "/stream") }
            let opened = try #require(await route.next())
            let large = (0..<(3 * StreamState.takeLimit + 100)).map { UInt8(truncatingIfNeeded: $0 % 251) }
            #expect(opened.stream.send(contentsOf: [bytes("<"), large, bytes(">")]) == .queued)
            let received = try await client.run { try $0.readStream(byteCount: large.count + 2) }
            #expect(received == bytes("<") + large + bytes(">"))
        }
    }

    @Test func releasedPagesLeaveMemoryAndTheFirstBytesStay() throws {
        let page = WriteBufferPages.pageSize
        let size = 16 * page
        // A private anonymous mapping, as libmicrohttpd's pool is; unmapped at the end of the test.
        let memory = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(memory, size) }
        memset(memory, 0x5A, size)
        #expect(residentPages(memory, size) == 16)
        // A destination that starts inside the first page, as the content reader's does.
        WriteBufferPages.release(memory + 8, count: size - 16)
        let kept = (8 + WriteBufferPages.keptBytes + page - 1) / page
        #expect(residentPages(memory, size) == kept + 1)
        let bytes = memory.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[8 + WriteBufferPages.keptBytes - 1] == 0x5A)
        #expect(bytes[kept * page] == 0)
        #expect(bytes[size - 1] == 0x5A)
    }

    /// How many pages of `memory` are resident (mincore).
    private func residentPages(_ memory: UnsafeMutableRawPointer, _ size: Int) -> Int {
        let count = size / WriteBufferPages.pageSize
        var vector = [UInt8](repeating: 0, count: count)
        // `memory` is page-aligned (mmap) and `vector` has one byte per page of `size`.
        _ = mincore(memory, size, &vector)
        return vector.filter { $0 & 1 == 1 }.count
    }
}
