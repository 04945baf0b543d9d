import HTTPServer
import Testing

/// The parts that need no socket: request-target parsing, JSON escaping, routing decisions.
@Suite struct PureLogicTests {
    @Test func pathSegmentsAreDecoded() {
        #expect(RequestTarget.pathSegments(Array("/".utf8)) == [])
        #expect(RequestTarget.pathSegments(Array("/a/b%20c/%E2%9C%93".utf8)) == ["a", "b c", "✓"])
        // One trailing slash is a folder's index (a last, empty segment); two are malformed.
        #expect(RequestTarget.pathSegments(Array("/a/".utf8)) == ["a", ""])
        #expect(RequestTarget.pathSegments(Array("/a//".utf8)) == nil)
        #expect(RequestTarget.pathSegments(Array("relative".utf8)) == nil)
        #expect(RequestTarget.pathSegments(Array("/a/./b".utf8)) == nil)
    }

    @Test func targetSplitsPathAndQuery() throws {
        let target = try RequestTarget.parse(Array("/x%3Ay?q=a%2Bb+c&n".utf8)).get()
        #expect(target.path == "/x%3Ay")
        #expect(target.query.map(\.name) == ["q", "n"])
        #expect(target.query.map(\.value) == ["a+b c", ""])
        #expect(throws: RequestTarget.Failure.malformedQuery) { try RequestTarget.parse(Array("/x?a=%g0".utf8)).get() }
        #expect(throws: RequestTarget.Failure.malformedPath) { try RequestTarget.parse(Array("/x//y?a=1".utf8)).get() }
    }

    @Test func jsonStringsAreEscaped() {
        var out: [UInt8] = []
        JSONText.appendQuoted("a\"b\\c\n\t\u{01}é", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\n\t\u0001é""#)
    }

    @Test func problemDefaultsLeaveOutUnknownMembers() {
        let text = String(decoding: Problem(status: 400, code: "bad", title: "Bad", detail: "d").jsonBytes, as: UTF8.self)
        #expect(text == #"{"type":"urn:vfiod:problem:bad","title":"Bad","status":400,"detail":"d","code":"bad"}"#)
    }

    @Test func requestLookupsAreCaseInsensitiveForHeaders() {
        let request = HTTPRequest(method: "GET", path: "/", query: [("a", "1"), ("b", "2"), ("a", "3")],
                                  headers: [("Content-TYPE", "text/plain")])
        #expect(request.header("content-type") == "text/plain")
        #expect(request.header("accept") == nil)
        #expect(request.queryValue("a") == "1")
        #expect(request.queryNames == ["a", "b"])
    }

    @Test func routerAnswersWithoutAServer() async {
        var router = Router()
        router.add("GET", "/v1/groups/{id}") { request in .text("group \(request.pathParameters["id"] ?? "")") }
        let found = await router.handle(HTTPRequest(method: "GET", path: "/v1/groups/%37"))
        #expect(found.status == 200)
        #expect(String(decoding: found.body, as: UTF8.self) == "group 7")
        let wrong = await router.handle(HTTPRequest(method: "POST", path: "/v1/groups/7"))
        #expect(wrong.status == 405)
        #expect(wrong.header("allow") == "GET, HEAD, OPTIONS")
        #expect(wrong.problem?.code == "method_not_allowed")
        let missing = await router.handle(HTTPRequest(method: "GET", path: "/v1/groups"))
        #expect(missing.problem?.code == "route_not_found")
        let malformed = await router.handle(HTTPRequest(method: "GET", path: "/v1/../groups"))
        #expect(malformed.problem?.code == "malformed_path")
    }

    @Test func aTrailingSlashIsItsOwnRoute() async {
        var router = Router()
        router.add("GET", "/ui/") { _ in .text("index") }
        router.add("GET", "/ui") { _ in .text("redirect") }
        let index = await router.handle(HTTPRequest(method: "GET", path: "/ui/"))
        #expect(String(decoding: index.body, as: UTF8.self) == "index")
        let bare = await router.handle(HTTPRequest(method: "GET", path: "/ui"))
        #expect(String(decoding: bare.body, as: UTF8.self) == "redirect")
        let other = await router.handle(HTTPRequest(method: "GET", path: "/v1/"))
        #expect(other.problem?.code == "route_not_found")
    }

    @Test func accessLogLineIsJSON() {
        let entry = AccessLogEntry(unixTimeMicroseconds: 1_700_000_000_123_456, requestID: "r\"1", method: "GET",
                                   path: "/x", status: 200, bytes: 5, durationMicroseconds: 42, remote: "::1")
        #expect(entry.jsonLine == #"{"time":"2023-11-14T22:13:20.123456Z","requestId":"r\"1","method":"GET","#
            + #""path":"/x","status":200,"bytes":5,"durationUs":42,"remote":"::1","completed":true}"#)
    }
}
