import HTTPServer
import TestSupport
import Testing

@Suite struct ResponseHeaderTests {
    @Test func saneRequestIDIsEchoed() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/devices", headers: [("X-Request-Id", "abc-123_x.Y")])
            #expect(response.header("X-Request-Id") == "abc-123_x.Y")
            #expect(response.header("Server") == "vfiod")
            #expect(response.header("Content-Type") == "application/json")
        }
    }

    @Test(arguments: [nil, "has space", "semi;colon", String(repeating: "a", count: 129)])
    func otherwiseRequestIDIsGenerated(sent: String?) async throws {
        try await withServer { server in
            let headers = sent.map { [("X-Request-Id", $0)] } ?? []
            let first = try await fetch(server, "GET", "/v1/devices", headers: headers)
            let second = try await fetch(server, "GET", "/v1/devices", headers: headers)
            let ids = [first, second].compactMap { $0.header("X-Request-Id") }
            #expect(ids.count == 2)
            #expect(ids[0] != ids[1])
            for id in ids {
                #expect(id.count == 32)
                #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            }
        }
    }

    @Test func generatedRequestIDsStayDistinctPastOneBatchOfRandomBytes() async throws {
        // The random bytes are fetched 4 KiB (256 IDs) at a time: 600 requests cross two refills.
        try await withServer { server in
            let port = server.port
            let ids = try await runOnDedicatedThread {
                try (0..<600).map { _ in
                    try HTTPTestClient(port: port).request(method: "GET", path: "/v1/devices").header("X-Request-Id") ?? ""
                }
            }
            #expect(Set(ids).count == 600)
            #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } })
        }
    }

    @Test func problemHasTheDocumentedShape() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/fail", headers: [("X-Request-Id", "req-1")])
            #expect(response.status == 409)
            #expect(response.header("Content-Type") == "application/problem+json")
            let expected = #"{"type":"urn:vfiod:problem:group_busy","title":"Group busy","status":409,"#
                + #""detail":"Group 7 is held by \"qemu\"\n(pid 42).","instance":"/v1/fail","code":"group_busy","#
                + #""requestId":"req-1","openers":[42]}"#
            #expect(response.bodyText == expected)
        }
    }

    @Test func everyResponseHasContentTypeAndRequestID() async throws {
        var router = Router()
        router.add("GET", "/bare") { _ in HTTPResponse(status: 200, body: [1, 2, 3]) }
        router.add("GET", "/empty") { _ in HTTPResponse(status: 204) }
        router.add("GET", "/etag") { _ in .notModified(etag: "\"v1\"") }
        try await withServer(router.handle) { server in
            let bare = try await fetch(server, "GET", "/bare")
            #expect(bare.header("Content-Type") == "application/octet-stream")
            #expect(bare.body == [1, 2, 3])
            let empty = try await fetch(server, "GET", "/empty")
            #expect(empty.status == 204)
            #expect(empty.header("Content-Type") != nil)
            let etag = try await fetch(server, "GET", "/etag")
            #expect(etag.status == 304)
            #expect(etag.header("ETag") == "\"v1\"")
            for response in [bare, empty, etag] { #expect(response.header("X-Request-Id") != nil) }
        }
    }

    @Test func accessLogRecordsEachRequest() async throws {
        let (stream, continuation) = AsyncStream<AccessLogEntry>.makeStream()
        try await withServer(configure: { $0.accessLog = { continuation.yield($0) } }) { server in
            _ = try await fetch(server, "GET", "/v1/devices/abc?view=x", headers: [("X-Request-Id", "log-1")])
            var iterator = stream.makeAsyncIterator()
            let entry = try #require(await iterator.next())
            #expect(entry.requestID == "log-1")
            #expect(entry.method == "GET")
            #expect(entry.path == "/v1/devices/abc")
            #expect(entry.status == 200)
            #expect(entry.bytes == "device abc view x".utf8.count)
            #expect(entry.remote == "127.0.0.1")
            #expect(entry.completed)
            #expect(entry.jsonLine.hasPrefix(#"{"time":""#))
            #expect(entry.jsonLine.contains(#""requestId":"log-1","method":"GET","path":"/v1/devices/abc","status":200"#))
        }
    }
}
