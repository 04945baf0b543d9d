import Glibc
import HTTPServer
import TestSupport
import Testing

/// A handler that reports when it starts and then waits until the test opens the gate.
private struct GatedRoute: Sendable {
    let entered: AsyncStream<Void>
    let enteredContinuation: AsyncStream<Void>.Continuation
    let gate: AsyncStream<Void>
    let gateContinuation: AsyncStream<Void>.Continuation

    init() {
        (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        (gate, gateContinuation) = AsyncStream<Void>.makeStream()
    }

    var router: Router {
        var router = Router()
        let route = self
        router.add("GET", "/slow") { _ in
            route.enteredContinuation.yield()
            for await _ in route.gate { break }
            return .text("slow done")
        }
        return router
    }
}

@Suite struct ShutdownTests {
    @Test func inFlightRequestFinishesThenNewConnectionsAreRefused() async throws {
        let route = GatedRoute()
        let server = HTTPServer(configuration: HTTPServerConfiguration(), handler: route.router.handle)
        try server.start()
        let port = server.port
        let (fired, firedContinuation) = AsyncStream<Void>.makeStream()
        server.shutdownSignal.onShutdown { firedContinuation.yield() }

        let slow = Task { try await runOnDedicatedThread { try HTTPTestClient(port: port).request(path: "/slow") } }
        var enteredIterator = route.entered.makeAsyncIterator()
        _ = await enteredIterator.next()
        #expect(server.inFlight == 1)

        let shutdown = Task { await server.shutdown(timeout: .seconds(60)) }
        var firedIterator = fired.makeAsyncIterator()
        _ = await firedIterator.next()
        // Stopped accepting while the handler is still running.
        let duringShutdown = await connectError(port: port)
        #expect(duringShutdown == .connectFailed(errno: ECONNREFUSED))
        #expect(server.inFlight == 1)

        route.gateContinuation.yield()
        let response = try await slow.value
        #expect(response.status == 200)
        #expect(response.bodyText == "slow done")
        #expect(response.header("Connection")?.lowercased() == "close")
        await shutdown.value
        #expect(server.inFlight == 0)
        let afterShutdown = await connectError(port: port)
        #expect(afterShutdown == .connectFailed(errno: ECONNREFUSED))
    }

    @Test func shutdownAnswersStillSuspendedRequestsWith503() async throws {
        let route = GatedRoute()
        let server = HTTPServer(configuration: HTTPServerConfiguration(), handler: route.router.handle)
        try server.start()
        let port = server.port
        let slow = Task { try await runOnDedicatedThread { try HTTPTestClient(port: port).request(path: "/slow") } }
        var enteredIterator = route.entered.makeAsyncIterator()
        _ = await enteredIterator.next()

        // The handler never answers in time: shutdown must not stop libmicrohttpd with it suspended.
        await server.shutdown(timeout: .milliseconds(50))
        let response = try await slow.value
        #expect(response.status == 503)
        #expect(response.bodyText.contains(#""code":"shutting_down""#))
        #expect(server.inFlight == 0)
        // The handler finishing late must not touch the finished connection.
        route.gateContinuation.yield()
        route.gateContinuation.finish()
        let after = await connectError(port: port)
        #expect(after == .connectFailed(errno: ECONNREFUSED))
    }

    @Test func shutdownSignalFiresOnceAndLateHooksRunAtOnce() async throws {
        let signal = ShutdownSignal()
        let server = HTTPServer(configuration: HTTPServerConfiguration(), shutdownSignal: signal) { _ in .text("") }
        try server.start()
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        signal.onShutdown { continuation.yield(1) }
        let removed = signal.onShutdown { continuation.yield(99) }
        signal.remove(removed)
        await server.shutdown(timeout: .seconds(5))
        await server.shutdown(timeout: .seconds(5))
        signal.onShutdown { continuation.yield(2) }
        continuation.finish()
        var seen: [Int] = []
        for await value in stream { seen.append(value) }
        #expect(seen == [1, 2])
        #expect(signal.isFired)
    }
}

/// The error a fresh connection to `port` gets, nil if it connected.
private func connectError(port: UInt16) async -> HTTPTestClientError? {
    do {
        try await runOnDedicatedThread { try HTTPTestClient(port: port).connect() }
        return nil
    } catch let error as HTTPTestClientError {
        return error
    } catch {
        return .malformedResponse("\(error)")
    }
}
