import HTTPServer
import Synchronization
import TestSupport
import Testing

/// A router whose `GET /stream` opens a `ResponseStream`, sends `initial` on it, hands it to the test
/// (`next()`), and answers with it; every other route is `sampleRouter`'s.
struct StreamRoute: Sendable {
    let capacity: Int
    let heartbeat: [UInt8]?
    let farewell: [UInt8]?
    let initial: [UInt8]
    private let opened: AsyncStream<Opened>
    private let continuation: AsyncStream<Opened>.Continuation

    /// A stream the route opened, the reasons its `onEnd` reported, and how often it ran.
    struct Opened: Sendable {
        let stream: ResponseStream
        let ends: AsyncStream<StreamEndReason>
        let calls: EndCount
    }

    /// How many times an `onEnd` handler ran.
    final class EndCount: Sendable {
        private let count = Atomic<Int>(0)
        func increment() { count.add(1, ordering: .sequentiallyConsistent) }
        var value: Int { count.load(ordering: .sequentiallyConsistent) }
    }

    init(capacity: Int = 1 << 16, heartbeat: String? = nil, farewell: String? = nil, initial: String = "start\n") {
        self.capacity = capacity
        self.heartbeat = heartbeat.map { Array($0.utf8) }
        self.farewell = farewell.map { Array($0.utf8) }
        self.initial = Array(initial.utf8)
        (opened, continuation) = AsyncStream<Opened>.makeStream()
    }

    var router: Router {
        var router = sampleRouter()
        let route = self
        router.add("GET", "/stream") { _ in
            let stream = ResponseStream(capacityBytes: route.capacity, heartbeat: route.heartbeat,
                                        farewell: route.farewell)
            let (ends, endsContinuation) = AsyncStream<StreamEndReason>.makeStream()
            let calls = EndCount()
            stream.onEnd { reason in
                calls.increment()
                endsContinuation.yield(reason)
                endsContinuation.finish()
            }
            stream.send(route.initial)
            route.continuation.yield(Opened(stream: stream, ends: ends, calls: calls))
            return .stream(stream, headers: [("Content-Type", "text/event-stream")])
        }
        return router
    }

    /// The next stream the route opened, in order.
    func next() async -> Opened? {
        var iterator = opened.makeAsyncIterator()
        return await iterator.next()
    }
}

extension StreamRoute.Opened {
    /// Every reason `onEnd` reported, once the stream ended (the handler finishes the sequence).
    func endReasons() async -> [StreamEndReason] {
        var reasons: [StreamEndReason] = []
        for await reason in ends { reasons.append(reason) }
        return reasons
    }
}

/// Text as bytes.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// An `HTTPTestClient` that one test drives from one dedicated thread after another (never two at
/// once), so that the test can act on the server between reads.
final class StreamClient: @unchecked Sendable {
    private let client: HTTPTestClient

    init(port: UInt16, receiveTimeoutSeconds: Int = 30) {
        client = HTTPTestClient(port: port, receiveTimeoutSeconds: receiveTimeoutSeconds)
    }

    /// Runs `work` with the client on a dedicated thread.
    func run<T: Sendable>(_ work: @escaping @Sendable (HTTPTestClient) throws -> T) async throws -> T {
        try await runOnDedicatedThread { try work(self.client) }
    }
}
