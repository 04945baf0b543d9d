import Foundation
import Store
import Testing
import TestSupport

/// The dashboard's serving: `/` and `/ui` redirect, `/ui/` is the page (revalidated), every file of
/// `ui/src` is served under the page's version with its own bytes, cached for a year, gzip-compressed
/// when accepted, `304` on a matching `ETag`; no token needed for any of it; `/v1/whoami` names the caller.
@Suite struct DashboardTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../ui/src").standardizedFileURL

    @Test func rootAndUIRedirectToTheDashboard() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            for path in ["/", "/ui"] {
                let response = try await service.get(path)
                #expect(response.status == 308, "\(path)")
                #expect(response.header("Location") == "/ui/")
            }
        }
    }

    @Test func everyFileIsServedUnderThePagesVersionGzippedWhenAcceptedAndCached() async throws {
        try await withService(try await TestService(host: richHost(), allow: ["all"])) { service in
            let page = try await service.get("/ui/")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Cache-Control") == "no-cache")
            #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            let version = try #require(page.bodyText.firstMatch(of: /assets\/([0-9a-f]{16})\/app\.js/)?.1)
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { $0 != "index.html" }.sorted()
            #expect(names.count >= 10)
            for name in names {
                let path = "/ui/assets/\(version)/\(name)"
                let plain = try await service.get(path)
                #expect(plain.status == 200, "\(path)")
                #expect(plain.body == Array(try Data(contentsOf: Self.sources.appendingPathComponent(name))), "\(name) as in ui/src")
                #expect(plain.header("Cache-Control") == "public, max-age=31536000, immutable")
                #expect(plain.header("Content-Type")?.hasPrefix(name.hasSuffix(".css") ? "text/css" : "text/javascript") == true)
                let gzipped = try await service.get(path, headers: [("Accept-Encoding", "gzip, deflate, br")])
                #expect(gzipped.header("Content-Encoding") == "gzip", "\(name)")
                #expect(gzipped.header("Vary") == "Accept-Encoding")
                #expect(try gunzip(gzipped.body) == plain.body, "\(name) decompresses to itself")
                #expect(gzipped.body.count < plain.body.count)
                let etag = try #require(gzipped.header("ETag"))
                let again = try await service.get(path, headers: [("Accept-Encoding", "gzip"), ("If-None-Match", etag)])
                #expect(again.status == 304)
                let refused = try await service.get(path, headers: [("Accept-Encoding", "gzip;q=0")])
                #expect(refused.header("Content-Encoding") == nil && refused.body == plain.body)
            }
            let stale = try await service.get("/ui/assets/0000000000000000/app.js")
            #expect(stale.status == 404 && stale.bodyText.contains("route_not_found"))
            let unknown = try await service.get("/ui/assets/\(version)/nope.js")
            #expect(unknown.status == 404)
        }
    }

    @Test func theDashboardNeedsNoTokenAndWhoAmINamesTheCaller() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let page = try await service.get("/ui/")
            #expect(page.status == 200)
            let database = try Database(path: service.service.configuration.databasePath)
            let token = try TokenStore(database: database).create(name: "dash-op", role: .operator, tenant: "t1").token
            let (response, body) = try await service.send("GET", "/v1/whoami", token: token)
            #expect(response.status == 200)
            #expect(body["name"] as? String == "dash-op" && body["role"] as? String == "operator" && body["tenant"] as? String == "t1")
            let nobody = try await service.get("/v1/whoami")
            #expect(nobody.status == 401)
        }
    }

    /// An assignment's operations, as the contract says, and not for another tenant's operator.
    @Test func anAssignmentsOperationsAreListedOldestFirst() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true)) { service in
            let database = try Database(path: service.service.configuration.databasePath)
            let tokens = TokenStore(database: database)
            let own = try tokens.create(name: "ops-t1", role: .operator, tenant: "t1").token
            let other = try tokens.create(name: "ops-t2", role: .operator, tenant: "t2").token
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm", "tenant": "t1"]], token: own)
            #expect(created.response.status == 202)
            _ = try await service.finish(operation: created.response.header("Operation-Location"), token: own)
            let id = try #require(created.body["id"] as? String)
            let released = try await service.send("DELETE", "/v1/assignments/\(id)", token: own)
            _ = try await service.finish(operation: released.response.header("Operation-Location"), token: own)
            let (response, body) = try await service.send("GET", "/v1/assignments/\(id)/operations", token: own)
            #expect(response.status == 200)
            let items = try #require(body["items"] as? [[String: Any]])
            #expect(items.map { $0["kind"] as? String } == ["bind", "release"])
            #expect(items.allSatisfy { $0["assignment"] as? String == id && $0["state"] as? String == "succeeded" })
            let document = try OpenAPIDocument()
            let schema = try #require(document.responseSchema("GET", "/v1/assignments/{id}/operations"))
            #expect(document.violations(of: body, against: schema).isEmpty)
            let hidden = try await service.send("GET", "/v1/assignments/\(id)/operations", token: other)
            #expect(hidden.response.status == 404 && hidden.body["code"] as? String == "assignment_not_found")
            let malformed = try await service.send("GET", "/v1/assignments/nope/operations", token: own)
            #expect(malformed.response.status == 404)
        }
    }

    /// gzip -d, to check a body against its plain bytes.
    private func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }
}
