import App
import Foundation
import Testing
import TestSupport

/// The config file's `cors` and `events` keys reach the HTTP server.
@Suite struct StreamingConfigTests {
    private static func configuration(_ json: String, in directory: TemporaryDirectory) throws -> Configuration {
        let path = directory.path + "/vfiod.json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        guard case .serve(let configuration) = try Command.parse(["serve", "--config", path]) else {
            throw FixtureError("not a serve command")
        }
        return configuration
    }

    @Test func theConfigFileSetsTheOriginsAndTheStreamLimits() throws {
        let directory = try TemporaryDirectory(prefix: "streaming-config")
        defer { directory.remove() }
        let defaults = try Self.configuration("{}", in: directory)
        #expect(defaults.corsAllowedOrigins.isEmpty)
        #expect(defaults.maxStreams == 256)
        #expect(defaults.streamHeartbeatSeconds == 15)
        let set = try Self.configuration(#"""
            {"cors": {"allowedOrigins": ["https://ui.example:8443", "http://127.0.0.1:3000"]},
             "events": {"maxStreams": 8, "heartbeatSeconds": 5}}
            """#, in: directory)
        #expect(set.corsAllowedOrigins == ["https://ui.example:8443", "http://127.0.0.1:3000"])
        #expect(set.maxStreams == 8)
        #expect(set.streamHeartbeatSeconds == 5)
        for bad in [#"{"cors": {"allowedOrigins": ["*"]}}"#, #"{"cors": {"allowedOrigins": ["https://ui.example/"]}}"#,
                    #"{"cors": {"allowedOrigins": ["ui.example"]}}"#, #"{"events": {"maxStreams": -1}}"#,
                    #"{"events": {"heartbeatSeconds": 3601}}"#] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try Self.configuration(bad, in: directory) }
        }
    }

    @Test func anAllowedOriginGetsCORSHeadersFromTheService() async throws {
        let origin = "https://ui.example:8443"
        try await withService(try await TestService(simulatedHost: richHost(), configure: {
            $0.corsAllowedOrigins = [origin]
        })) { service in
            let allowed = try await service.get("/v1/devices", headers: [("Origin", origin)])
            #expect(allowed.status == 200)
            #expect(allowed.header("Access-Control-Allow-Origin") == origin)
            let preflight = try await service.request("OPTIONS", "/v1/devices", headers: [
                ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET"),
            ])
            #expect(preflight.status == 403)
            #expect(preflight.bodyText.contains(#""code":"cors_origin_refused""#))
        }
    }
}
