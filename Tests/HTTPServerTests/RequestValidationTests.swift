import HTTPServer
import TestSupport
import Testing

@Suite struct RequestValidationTests {
    @Test(arguments: ["/v1/../etc/passwd", "/v1/devices/..", "/v1/%2e%2E/x", "/v1//devices", "/v1/devices/%00",
                      "/v1/devices/%zz", "/v1/devices/%4", "/v1/devices/%ff%fe"])
    func malformedPathIs400(path: String) async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", path)
            #expect(response.status == 400)
            #expect(response.bodyText.contains(#""code":"malformed_path""#))
            #expect(response.header("Content-Type") == "application/problem+json")
        }
    }

    @Test(arguments: ["/v1/query?a=%zz", "/v1/query?a=%", "/v1/query?%00=1", "/v1/query?a=%c3%28"])
    func malformedQueryIs400(path: String) async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", path)
            #expect(response.status == 400)
            #expect(response.bodyText.contains(#""code":"malformed_query""#))
        }
    }

    @Test func queryIsDecodedInOrder() async throws {
        try await withServer { server in
            let response = try await fetch(server, "GET", "/v1/query?a=1&b=x+y&&c=%26%3D&flag&a=2&e=%C3%A9")
            #expect(response.status == 200)
            #expect(response.bodyText == "a=1|b=x y|c=&=|flag=|a=2|e=é")
        }
    }

    @Test func oversizedContentLengthIsRefusedBeforeTheBody() async throws {
        try await withServer(configure: { $0.maxBodyBytes = 1024 }) { server in
            let port = server.port
            let response = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port)
                // Headers only: the server must answer without waiting for the 10 MiB it was promised.
                try client.sendRaw(Array("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10485760\r\n\r\n".utf8))
                return try client.readResponse()
            }
            #expect(response.status == 413)
            #expect(response.bodyText.contains(#""code":"payload_too_large""#))
            #expect(response.bodyText.contains(#""limitBytes":1024"#))
        }
    }

    @Test func chunkedBodyPastTheCapIs413() async throws {
        try await withServer(configure: { $0.maxBodyBytes = 1024 }) { server in
            let port = server.port
            let (small, large) = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port)
                let chunk = String(repeating: "x", count: 500)
                let head = "POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                try client.sendRaw(Array((head + "1f4\r\n\(chunk)\r\n0\r\n\r\n").utf8))
                let small = try client.readResponse()
                var body = head
                for _ in 0..<3 { body += "1f4\r\n\(chunk)\r\n" }
                try client.sendRaw(Array((body + "0\r\n\r\n").utf8))
                return (small, try client.readResponse())
            }
            #expect(small.status == 200)
            #expect(small.body.count == 500)
            #expect(large.status == 413)
            #expect(large.bodyText.contains(#""code":"payload_too_large""#))
        }
    }
}
