import Foundation
import HTTPServer
import Testing
import TestSupport

/// HTTPS on the real server with certificates made by `openssl` and `curl` as the client.
@Suite(.serialized) struct TLSTests {
    /// A router that also says which client certificate the request came with.
    static func router() -> Router {
        var router = sampleRouter()
        router.add("GET", "/whoami") { request in .text(request.clientCertificateSubject ?? "no certificate") }
        return router
    }

    static func configure(_ certificates: TestCertificates, _ pair: (certificate: String, key: String),
                          clientCA: Bool = false) -> (inout HTTPServerConfiguration) -> Void {
        { configuration in
            configuration.tls = TLSConfiguration(certificatePath: pair.certificate, keyPath: pair.key,
                                                 clientCAPath: clientCA ? certificates.caPath : nil)
        }
    }

    @Test func servesHTTPSAndNoHTTPToAPlainClient() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.server("server", serial: 1)
        try await withServer(Self.router().handle, configure: Self.configure(certificates, pair)) { server in
            let port = server.port
            let https = try certificates.curl(port: port, "/v1/devices")
            #expect(https.exit == 0 && https.status == 200 && https.body == #"{"items":[]}"#, "\(https)")
            let anonymous = try certificates.curl(port: port, "/whoami")
            #expect(anonymous.body == "no certificate")
            #expect(server.tlsSummary?.contains("serial 01, subject CN=127.0.0.1") == true, "\(server.tlsSummary ?? "")")

            // A plain HTTP request gets no HTTP reply: the bytes are not a TLS handshake.
            let reply: [UInt8] = try await runOnDedicatedThread {
                let client = HTTPTestClient(port: port, receiveTimeoutSeconds: 30)
                try client.sendRaw(Array("GET /v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                return try client.readUntilClosed()
            }
            #expect(!String(decoding: reply, as: UTF8.self).contains("HTTP/"), "\(reply)")
            let plain = try TestCertificates.run(["/usr/bin/curl", "-sS", "--max-time", "30", "http://127.0.0.1:\(port)/v1/devices"])
            #expect(plain.status != 0, "\(plain.output)")
        }
    }

    @Test func aClientCertificateIsRequiredAndItsSubjectReachesTheHandler() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.server("server", serial: 1)
        let orchestrator = try certificates.client("orchestrator", subject: "/O=vfiod/CN=orchestrator")
        let stranger = try certificates.client("stranger", subject: "/CN=orchestrator", issuer: "other-ca")
        try await withServer(Self.router().handle, configure: Self.configure(certificates, pair, clientCA: true)) { server in
            let port = server.port
            let without = try certificates.curl(port: port, "/whoami")
            #expect(without.exit != 0 && without.status == 0, "\(without)")
            let untrusted = try certificates.curl(port: port, "/whoami", client: stranger)
            #expect(untrusted.exit != 0 && untrusted.status == 0, "\(untrusted)")
            let trusted = try certificates.curl(port: port, "/whoami", client: orchestrator)
            #expect(trusted.exit == 0 && trusted.status == 200, "\(trusted)")
            #expect(trusted.body == "CN=orchestrator,O=vfiod")
        }
    }

    @Test func aReloadServesTheNewKeyPairFromTheNextHandshake() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let first = try certificates.server("first", serial: 1)
        let second = try certificates.server("second", serial: 2)
        let third = try certificates.server("third", serial: 3)
        // The server reads these two paths, at start and on each reload.
        let served = (certificate: certificates.directory.path + "/served.pem", key: certificates.directory.path + "/served.key")
        try Self.copy(first, to: served)
        try await withServer(Self.router().handle, configure: Self.configure(certificates, served)) { server in
            let port = server.port
            #expect(try certificates.servedSerial(port: port) == "01")

            try Self.copy(second, to: served)
            let summary = try server.reloadTLS()
            #expect(summary.hasPrefix("serial 02, subject CN=127.0.0.1, expires "), "\(summary)")
            #expect(try certificates.servedSerial(port: port) == "02")
            #expect(try certificates.curl(port: port, "/v1/devices").status == 200)

            // A key that is not the certificate's is refused, and the served pair stays.
            try FileManager.default.removeItem(atPath: served.key)
            try FileManager.default.copyItem(atPath: third.key, toPath: served.key)
            #expect(throws: HTTPServerError.self) { try server.reloadTLS() }
            #expect(try certificates.servedSerial(port: port) == "02")
            #expect(server.tlsSummary?.hasPrefix("serial 02") == true)
        }
    }

    @Test func aMissingKeyPairIsAStartFailure() throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.tls = TLSConfiguration(certificatePath: "/nonexistent/server.pem", keyPath: "/nonexistent/server.key")
        let server = HTTPServer(configuration: configuration) { _ in .text("never") }
        #expect {
            try server.start()
        } throws: { error in
            "\(error)".contains("cannot read the TLS certificate /nonexistent/server.pem")
        }
    }

    static func copy(_ pair: (certificate: String, key: String), to target: (certificate: String, key: String)) throws {
        for (source, destination) in [(pair.certificate, target.certificate), (pair.key, target.key)] {
            if FileManager.default.fileExists(atPath: destination) { try FileManager.default.removeItem(atPath: destination) }
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        }
    }
}
