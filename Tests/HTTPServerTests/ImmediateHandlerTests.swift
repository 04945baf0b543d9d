import HTTPServer
import Synchronization
import Testing

/// The immediate path: a route's immediate handler answers on the server's thread without the task
/// hop, with the same headers as any answer; declining (nil) hands the request to the async handler.
@Suite struct ImmediateHandlerTests {
    /// Counts which path answered.
    final class Paths: Sendable {
        let immediate = Atomic<Int>(0)
        let async = Atomic<Int>(0)
    }

    static func router(_ paths: Paths) -> Router {
        var router = Router()
        router.add("GET", "/v1/cached/{id}", immediate: { request in
            let id = request.pathParameters["id"] ?? "?"
            guard id != "slow" else { return nil }
            paths.immediate.add(1, ordering: .relaxed)
            return .json(Array(#"{"id":"\#(id)"}"#.utf8), headers: [("ETag", "\"e1\"")])
        }) { request in
            paths.async.add(1, ordering: .relaxed)
            return .text("async \(request.pathParameters["id"] ?? "?")")
        }
        router.add("DELETE", "/v1/cached/{id}") { _ in .text("deleted", status: 202) }
        return router
    }

    @Test func anImmediateAnswerSkipsTheHandlerAndKeepsTheHeaders() async throws {
        let paths = Paths()
        let router = Self.router(paths)
        let server = HTTPServer(configuration: HTTPServerConfiguration(), immediate: { router.handleImmediately($0)?.response },
                                handler: router.handle)
        try server.start()
        do { try await Self.exercise(server, paths) } catch {
            await server.shutdown(timeout: .seconds(5))
            throw error
        }
        await server.shutdown(timeout: .seconds(5))
    }

    static func exercise(_ server: HTTPServer, _ paths: Paths) async throws {
        let answer = try await fetch(server, "GET", "/v1/cached/a", headers: [("X-Request-Id", "fast-1")])
        #expect(answer.status == 200 && answer.bodyText == #"{"id":"a"}"#)
        #expect(answer.header("Content-Type") == "application/json" && answer.header("ETag") == "\"e1\"")
        #expect(answer.header("X-Request-Id") == "fast-1" && answer.header("Server") == "vfiod")
        let head = try await fetch(server, "HEAD", "/v1/cached/b")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "10")
        #expect(paths.immediate.load(ordering: .relaxed) == 2 && paths.async.load(ordering: .relaxed) == 0)

        // Declined: the async handler answers.
        let slow = try await fetch(server, "GET", "/v1/cached/slow")
        #expect(slow.status == 200 && slow.bodyText == "async slow")
        #expect(paths.async.load(ordering: .relaxed) == 1)
        // Other methods never take the immediate path.
        let deleted = try await fetch(server, "DELETE", "/v1/cached/a")
        #expect(deleted.status == 202 && deleted.bodyText == "deleted")
        #expect(paths.immediate.load(ordering: .relaxed) == 2)
        // Routing stays the router's: unknown paths and wrong methods are the async handler's problems.
        #expect(try await fetch(server, "GET", "/v1/nothing").status == 404)
        #expect(try await fetch(server, "POST", "/v1/cached/a").status == 405)
    }

    @Test func theRouterOffersOnlyGetAndHeadOfRoutesWithAnImmediateHandler() {
        let paths = Paths()
        let router = Self.router(paths)
        #expect(router.handleImmediately(HTTPRequest(method: "GET", path: "/v1/cached/x"))?.pattern == "/v1/cached/{id}")
        #expect(router.handleImmediately(HTTPRequest(method: "HEAD", path: "/v1/cached/x"))?.response.status == 200)
        #expect(router.handleImmediately(HTTPRequest(method: "GET", path: "/v1/cached/slow")) == nil)
        #expect(router.handleImmediately(HTTPRequest(method: "DELETE", path: "/v1/cached/x")) == nil)
        #expect(router.handleImmediately(HTTPRequest(method: "GET", path: "/v1/other")) == nil)
        #expect(paths.immediate.load(ordering: .relaxed) == 2)
    }
}
