import App
import Foundation
import Assignments
import Store
import Testing
import TestSupport

/// `callbackUrl`: the grammar the server accepts is the contract's pattern, nothing but RFC 3986 characters
/// reach the request line, and only hosts `callbacks.allowedHosts` lists are ever called.
@Suite struct CallbackURLTests {
    /// A body for a device this host does not have: a URL that passes both checks ends in `404`, so no
    /// lease is made.
    static func body(_ url: String, device: String = "0000:99:00.0") -> [String: Any] {
        ["device": device, "holder": ["id": "vm", "tenant": "t"], "callbackUrl": url]
    }

    /// Accepted and refused alike, near the edges of the grammar.
    static let candidates = [
        "http://127.0.0.1/", "http://127.0.0.1", "http://127.0.0.1:8080/cb", "http://localhost:65535/a/b?c=d&e=%41",
        "http://[::1]:8080/cb", "http://[::1]", "http://[::ffff:127.0.0.1]/", "http://[1:2:3:4:5:6:7::]/", "http://[::1:2:3:4:5:6:7]/",
        "http://orchestrator.example/vfio/release", "http://ORCHESTRATOR.EXAMPLE./", "http://a-b.c/", "http://x?y",
        "http://h/~user/!$&'()*+,;=:@/?q=/?", "http://h/%7e%7E", "http://" + String(repeating: "a", count: 63) + ".b/",
        "http://" + String(repeating: "a", count: 64) + ".b/", "http://999.1.1.1/", "http://2130706433/",
        // Refused for syntax.
        "https://127.0.0.1/", "HTTP://127.0.0.1/", "http://", "http:///x", "http://user@127.0.0.1/", "http://127.0.0.1:0/",
        "http://127.0.0.1:65536/", "http://127.0.0.1:080/", "http://127.0.0.1:/", "http://127.0.0.1:8o/", "http://127.0.0.1/a b",
        "http://127.0.0.1/a\u{0}b", "http://127.0.0.1/\u{7f}", "http://127.0.0.1/caf\u{e9}", "http://127.0.0.1/a#frag",
        "http://127.0.0.1/%4", "http://127.0.0.1/%zz", "http://127.0.0.1/a\r\nX-Evil: 1", "http://-a.b/", "http://a-.b/",
        "http://a..b/", "http://a_b/", "http://[::1%25lo]/", "http://[::::]/", "http://[1:2:3:4:5:6:7:8:9]/", "http://[::1/",
        "http://[::1.2.3.04]/", "http://[127.0.0.1]/", "http://127.0.0.1\\@evil/", "http://127.0.0.1/\"", "http://127.0.0.1/<x>",
        "http://127.0.0.1/" + String(repeating: "a", count: 2048),
    ]

    @Test func thePatternIsTheGrammarTheServerAccepts() async throws {
        let document = try OpenAPIDocument()
        let schema = try #require(document.resolve(["$ref": "#/components/schemas/CreateAssignment"])["properties"] as? [String: Any])
        let property = try #require(schema["callbackUrl"] as? [String: Any])
        let pattern = try #require(property["pattern"] as? String)
        let maxLength = try #require(property["maxLength"] as? Int)
        try await withService(try await TestService(host: richHost())) { service in
            var admitted = 0
            for url in Self.candidates {
                let matches = url.range(of: pattern, options: .regularExpression) != nil && url.count <= maxLength
                let (response, problem) = try await service.send("POST", "/v1/assignments", json: Self.body(url))
                let code = problem["code"] as? String
                #expect(response.status == 404 || response.status == 400, "\(url.debugDescription): \(response.bodyText)")
                #expect((code == "invalid_body") == !matches,
                        "\(url.debugDescription): the pattern \(matches ? "admits" : "refuses") it, the server answers \(code ?? "-")")
                if matches { admitted += 1 }
            }
            #expect(admitted >= 15 && Self.candidates.count - admitted >= 30, "both sides of the grammar are tried")
        }
    }

    @Test func onlyListedHostsAreCalled() async throws {
        let hosts = try CallbackHosts(["10.0.0.0/8", "fd00::/8", "callbacks.example", "192.0.2.7"])
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist) { $0.callbackHosts = hosts }
        try await withService(service) { service in
            for url in ["http://10.1.2.3/cb", "http://CALLBACKS.example:81/", "http://[fd12::1]/", "http://192.0.2.7/"] {
                let (response, problem) = try await service.send("POST", "/v1/assignments", json: Self.body(url))
                #expect(response.status == 404 && problem["code"] as? String == "device_not_found", "\(url): \(response.bodyText)")
            }
            for url in ["http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://11.0.0.1/", "http://192.0.2.8/",
                        "http://2130706433/", "http://167837953/", "http://other.example/", "http://callbacks.example.evil/"] {
                let (response, problem) = try await service.send("POST", "/v1/assignments", json: Self.body(url))
                #expect(response.status == 400 && problem["code"] as? String == "callback_host_not_allowed", "\(url): \(response.bodyText)")
            }
        }
    }

    @Test func byDefaultOnlyLoopbackIsCalledAndTheRequestLineIsWhatWasAllowed() async throws {
        let listener = try CallbackListener()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            for url in ["http://192.0.2.1/cb", "http://10.0.0.1:8080/", "http://[fe80::1]/", "http://orchestrator.example/"] {
                let (response, problem) = try await service.send("POST", "/v1/assignments", json: Self.body(url, device: "0000:05:00.0"))
                #expect(response.status == 400 && problem["code"] as? String == "callback_host_not_allowed", "\(url): \(response.bodyText)")
            }
            #expect(try await service.items("/v1/assignments").isEmpty, "a refused callback makes no lease")
            let url = "http://127.0.0.1:\(listener.port)?tenant=t&path=%2Fa%20b"
            let id = try await service.lease(["device": "0000:05:00.0"], ["callbackUrl": url])
            async let received = runOnDedicatedThread { listener.acceptOne() }
            let release = try await service.release(id)
            let request = try await received
            let lines = request.split(separator: "\r\n", omittingEmptySubsequences: false)
            #expect(lines.first == "POST /?tenant=t&path=%2Fa%20b HTTP/1.1", "\(request)")
            #expect(lines.contains("Host: 127.0.0.1:\(listener.port)"), "\(request)")
            #expect(release["callback"] as? String == "204", "\(release)")
        }
    }

    /// A URL stored before the grammar or the allowed hosts tightened (written into the row here) is not called.
    @Test func aStoredCallbackIsCheckedAgainBeforeItIsCalled() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let database = try Database(path: service.service.configuration.databasePath)
            for (stored, outcome) in [("http://192.0.2.1/released", "failed: host 192.0.2.1 is not in callbacks.allowedHosts; not called"),
                                      ("http://127.0.0.1:9/a\u{0}b", "failed: not a valid callback URL; not called")] {
                let id = try await service.lease(["device": "0000:05:00.0"], ["callbackUrl": "http://127.0.0.1:9/released"])
                #expect(try database.run("UPDATE assignments SET callback_url = ? WHERE id = ?", .text(stored), .text(id)) == 1)
                let release = try await service.release(id)
                #expect(release["callback"] as? String == outcome, "\(release)")
            }
        }
    }

    @Test func theConfigFileSetsTheAllowedHosts() throws {
        let directory = try TemporaryDirectory(prefix: "callback-config")
        defer { directory.remove() }
        func configuration(_ json: String) throws -> Configuration {
            let path = directory.path + "/vfiod.json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            guard case .serve(let configuration) = try Command.parse(["serve", "--config", path]) else {
                throw FixtureError("not a serve command")
            }
            return configuration
        }
        let loopback = try #require(CallbackURL("http://127.0.0.1:9/"))
        let other = try #require(CallbackURL("http://10.0.0.1/"))
        #expect(try configuration("{}").callbackHosts == .loopback)
        #expect(CallbackHosts.loopback.allows(loopback) && !CallbackHosts.loopback.allows(other))
        let widened = try configuration(#"{"callbacks": {"allowedHosts": ["10.0.0.0/24"]}}"#).callbackHosts
        #expect(widened.allows(other) && !widened.allows(loopback))
        let none = try configuration(#"{"callbacks": {"allowedHosts": []}}"#).callbackHosts
        #expect(!none.allows(loopback))
        for entry in ["10.0.0.0/33", "10.0.0.0/x", "host:80", "a b", "http://x", "::1/129", ""] {
            #expect(throws: ConfigurationError.self, "\(entry)") {
                try configuration(#"{"callbacks": {"allowedHosts": ["\#(entry)"]}}"#)
            }
        }
    }
}
