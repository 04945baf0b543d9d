import Foundation
import Testing
import TestSupport

/// The real vfiod serving HTTPS with client certificates (made by `openssl`), driven with `curl`.
@Suite(.serialized) struct TLSEndToEndTests {
    /// A config file whose client identities map two certificate subjects to an operator and an auditor.
    static func configFile(in directory: String, _ certificates: TestCertificates) throws -> String {
        let path = directory + "/vfiod.json"
        let text = """
        {"tls": {"cert": "\(directory)/served.pem", "key": "\(directory)/served.key", "clientCA": "\(certificates.caPath)",
                 "clientIdentities": [
                   {"subject": "CN=orchestrator,O=vfiod", "role": "operator", "tenant": "team-a"},
                   {"subject": "CN=auditor", "role": "auditor", "name": "the-auditor"}]}}
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func place(_ pair: (certificate: String, key: String), in directory: String) throws {
        for (source, name) in [(pair.certificate, "served.pem"), (pair.key, "served.key")] {
            let target = directory + "/" + name
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source, toPath: target)
        }
    }

    static func object(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    @Test func clientCertificatesActAsConfiguredAndSIGHUPReloadsTheCertificateUnderALease() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let directory = certificates.directory.path
        try Self.place(try certificates.server("first", serial: 1), in: directory)
        let second = try certificates.server("second", serial: 2)
        let orchestrator = try certificates.client("orchestrator", subject: "/O=vfiod/CN=orchestrator")
        let auditor = try certificates.client("auditor", subject: "/CN=auditor")
        let nobody = try certificates.client("nobody", subject: "/CN=nobody")
        let vfiod = try VFIODProcess(arguments: [
            "--config", try Self.configFile(in: directory, certificates), "--allow", "all", "--db", directory + "/v.db",
            "--simulate", Fixtures.topologyDirectory + "/gpu-server.json"])
        defer { Task { await vfiod.terminate() } }
        try #require(try await vfiod.waitUntilListening(), "\(vfiod.output)")
        #expect(vfiod.output.contains("with TLS (serial 01, subject CN=127.0.0.1"), "\(vfiod.output)")
        let port = vfiod.port

        // No certificate: no service. A certificate nobody configured: 401, as an unknown token.
        #expect(try certificates.curl(port: port, "/v1/devices").status == 0)
        let unknown = try certificates.curl(port: port, "/v1/devices", client: nobody)
        #expect(unknown.status == 401 && Self.object(unknown.body)["code"] as? String == "unauthenticated", "\(unknown)")

        // The orchestrator's certificate is an operator of team-a: it assignments for team-a only, and may not audit.
        let lease = #"{"device": "0000:41:00.0", "holder": {"id": "vm-1", "tenant": "team-a"}, "ttlSeconds": 600}"#
        let created = try certificates.curl(port: port, "/v1/assignments", method: "POST", json: lease, client: orchestrator)
        #expect(created.status == 202, "\(created)")
        let assignment = Self.object(created.body)
        let id = try #require(assignment["id"] as? String)
        #expect(assignment["createdBy"] as? String == "CN=orchestrator,O=vfiod")
        let foreign = lease.replacingOccurrences(of: "team-a", with: "team-b")
        #expect(try certificates.curl(port: port, "/v1/assignments", method: "POST", json: foreign, client: orchestrator).status == 403)
        #expect(try certificates.curl(port: port, "/v1/audit", client: orchestrator).status == 403)
        let audit = try certificates.curl(port: port, "/v1/audit?assignment=\(id)", client: auditor)
        #expect(audit.status == 200, "\(audit)")
        let actors = (Self.object(audit.body)["items"] as? [[String: Any]] ?? []).compactMap { $0["actor"] as? String }
        #expect(actors.contains("CN=orchestrator,O=vfiod"), "\(actors)")
        #expect(try Self.finish(created.headers, certificates, port, orchestrator) == "succeeded")
        #expect(try Self.state(of: id, certificates, port, orchestrator) == "active")

        // SIGHUP: the next handshake gets the new certificate; the process and the lease stay.
        #expect(try certificates.servedSerial(port: port, client: orchestrator) == "01")
        try Self.place(second, in: directory)
        kill(vfiod.process.processIdentifier, SIGHUP)
        #expect(try await vfiod.waitForOutput(containing: "serving the TLS certificate serial 02"), "\(vfiod.output)")
        #expect(try certificates.servedSerial(port: port, client: orchestrator) == "02")
        // A key that is not the certificate's: refused with a warning, and serial 02 stays served.
        try FileManager.default.removeItem(atPath: directory + "/served.key")
        try FileManager.default.copyItem(atPath: orchestrator.key, toPath: directory + "/served.key")
        kill(vfiod.process.processIdentifier, SIGHUP)
        #expect(try await vfiod.waitForOutput(containing: "cannot reload TLS, still serving serial 02"), "\(vfiod.output)")
        #expect(try certificates.servedSerial(port: port, client: orchestrator) == "02")
        #expect(vfiod.process.isRunning)
        #expect(try Self.state(of: id, certificates, port, orchestrator) == "active")
        let released = try certificates.curl(port: port, "/v1/assignments/\(id)", method: "DELETE", client: orchestrator)
        #expect(released.status == 202, "\(released)")
        #expect(try Self.finish(released.headers, certificates, port, orchestrator) == "succeeded")
        #expect(try Self.state(of: id, certificates, port, orchestrator) == "released")
    }

    /// The assignment's state.
    static func state(of id: String, _ certificates: TestCertificates, _ port: UInt16,
                      _ client: (certificate: String, key: String)) throws -> String? {
        Self.object(try certificates.curl(port: port, "/v1/assignments/\(id)", client: client).body)["state"] as? String
    }

    /// Follows the operation named by the `Operation-Location` in `headers` to its end; its state.
    static func finish(_ headers: String, _ certificates: TestCertificates, _ port: UInt16,
                       _ client: (certificate: String, key: String)) throws -> String? {
        let line = headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("operation-location:") }
        let location = try #require(line?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces))
        for _ in 0..<10 {
            let state = Self.object(try certificates.curl(port: port, location + "?wait=30", client: client).body)["state"] as? String
            if state != "queued" && state != "running" { return state }
        }
        return nil
    }

    @Test(arguments: [
        (["--tls-cert", "/etc/vfiod/server.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-client-ca", "/etc/vfiod/ca.pem"], "--tls-client-ca needs --tls-cert and --tls-key"),
        (["--tls-cert", "/nonexistent/server.pem", "--tls-key", "/nonexistent/server.key"],
         "cannot read the TLS certificate /nonexistent/server.pem"),
        (["--config", #"{"tls": {"clientIdentities": [{"subject": "CN=a", "role": "admin"}]}}"#],
         "tls.clientIdentities need --tls-client-ca"),
        (["--config", #"{"tls": {"cert": "/c", "key": "/k", "clientCA": "/ca", "clientIdentities": [{"subject": "CN=a", "role": "operator"}]}}"#],
         "CN=a: an operator needs a tenant"),
        (["--config", #"{"tls": {"cert": "/c", "key": "/k", "clientCA": "/ca", "clientIdentities": [{"subject": "CN=a", "role": "root"}]}}"#],
         "role must be viewer, operator, auditor or admin"),
        (["--config", #"{"tls": {"cert": "/c", "key": "/k", "clientCA": "/ca", "clientIdentities": [{"subject": "CN=a", "role": "admin", "name": "ops"}, {"subject": "CN=b", "role": "viewer", "name": "ops"}]}}"#],
         "the name ops stands for two subjects"),
    ])
    func aTLSSettingThatCannotWorkIsAStartFailure(_ arguments: [String], _ expected: String) throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-tls-refused")
        defer { directory.remove() }
        // A `--config` value here is the file's text.
        var resolved: [String] = []
        for (index, argument) in arguments.enumerated() {
            if index > 0, arguments[index - 1] == "--config" {
                try argument.write(toFile: directory.path + "/vfiod.json", atomically: true, encoding: .utf8)
                resolved.append(directory.path + "/vfiod.json")
            } else {
                resolved.append(argument)
            }
        }
        let result = try ProcessTests.run(["serve", "--listen", "127.0.0.1:0", "--db", directory.path + "/v.db",
                                           "--simulate", Fixtures.topologyDirectory + "/workstation.json"] + resolved)
        #expect(result.status != 0)
        let lines = result.err.split(separator: "\n").filter { !$0.contains("warning:") }
        #expect(lines.count == 1 && result.err.contains(expected), "\(result.err)")
    }

    @Test func aListenerBeyondLoopbackNeedsTLSOrInsecureListen() async throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-insecure")
        defer { directory.remove() }
        let common = ["serve", "--listen", "0.0.0.0:0", "--db", directory.path + "/v.db", "--no-access-log",
                      "--simulate", Fixtures.topologyDirectory + "/workstation.json"]
        let refused = try ProcessTests.run(common)
        #expect(refused.status != 0)
        let lines = refused.err.split(separator: "\n").filter { !$0.contains("warning:") }
        #expect(lines.count == 1 && refused.err.contains("needs TLS (--tls-cert and --tls-key) or --insecure-listen"), "\(refused.err)")

        for extra in [["--insecure-listen"], ["--tls-cert", "CERT", "--tls-key", "KEY"]] {
            let certificates = try TestCertificates()
            defer { certificates.remove() }
            let pair = try certificates.server("server", serial: 5)
            // VFIODProcess adds `serve` and `--no-access-log` itself.
            let arguments = Array(common.dropFirst()).filter { $0 != "--no-access-log" } + extra.map { $0 == "CERT" ? pair.certificate : $0 == "KEY" ? pair.key : $0 }
            let vfiod = try VFIODProcess(arguments: arguments)
            #expect(try await vfiod.waitForOutput(containing: "listening on 0.0.0.0:"), "\(extra): \(vfiod.output)")
            vfiod.process.terminate()
            #expect(try await vfiod.waitForExit().status == 0)
        }
    }
}
