import Glibc
@testable import HTTPServer
import TestSupport
import Testing

/// Byte arrays queued as they are (one shared by many streams), and the write buffer's pages an idle
/// stream gives back.
@Suite struct StreamPartsTests {
    @Test func oneArraySentToTwoStreamsArrivesWholeOnBothAndInOrder() async throws {
        let route = StreamRoute(capacity: 1 << 20, initial: "")
        try await withServer(route.router.handle) { server in
            let first = StreamClient(port: server.port), second = StreamClient(port: server.port)
            _ = try await first.run { try $0.openStream(path: "/stream") }
            let one = try #require(await route.next())
            _ = try await second.run { try $0.openStream(path: "/stream") }
            let two = try #require(await route.next())
            // The same arrays go to both streams, one larger than a read of the content reader (`takeLimit`).
            let large = (0..<(3 * StreamState.takeLimit + 100)).map { UInt8(truncatingIfNeeded: $0 % 251) }
            let parts = [bytes("<"), large, bytes(">")]
            for part in parts {
                #expect(one.stream.send(part) == .queued)
                #expect(two.stream.send(part) == .queued)
            }
            let expected = parts.flatMap { $0 }
            let count = expected.count
            #expect(try await first.run { try $0.readStream(byteCount: count) } == expected)
            #expect(try await second.run { try $0.readStream(byteCount: count) } == expected)
            #expect(parts[1] == large)
        }
    }

    @Test func releasedPagesLeaveMemoryAndTheFirstBytesStay() throws {
        let page = WriteBufferPages.pageSize
        let size = 2 * WriteBufferPages.keptBytes + 4 * page
        let pages = size / page
        // A private anonymous mapping, as libmicrohttpd's pool is; unmapped at the end of the test.
        let memory = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(memory, size) }
        memset(memory, 0x5A, size)
        #expect(residentPages(memory, size) == pages)
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
