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
