import Foundation

/// Certificates made with `openssl` for TLS tests, in a temporary directory: a CA, server certificates for
/// 127.0.0.1 signed by it, client certificates, and a second CA nobody trusts. P-256 keys (quick to make).
public final class TestCertificates: @unchecked Sendable {
    /// The directory holding every file; removed by `remove()`.
    public let directory: TemporaryDirectory
    /// The CA's certificate (trust anchor for both the server's and the clients' certificates).
    public var caPath: String { directory.path + "/ca.pem" }
    /// The CA that signed nothing the server trusts.
    public var otherCAPath: String { directory.path + "/other-ca.pem" }

    /// Makes both CAs.
    public init() throws {
        directory = try TemporaryDirectory(prefix: "vfiod-tls")
        try makeCA("ca", subject: "/CN=vfiod test CA")
        try makeCA("other-ca", subject: "/CN=someone else's CA")
    }

    /// Removes the directory.
    public func remove() { directory.remove() }

    /// A server certificate for 127.0.0.1 named `name` (`NAME.pem`, `NAME.key`) with serial `serial`,
    /// signed by the CA. Returns the certificate's and the key's paths.
    @discardableResult
    public func server(_ name: String, serial: Int) throws -> (certificate: String, key: String) {
        try issue(name, subject: "/CN=127.0.0.1", serial: serial, by: "ca",
                  extensions: "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    }

    /// A client certificate with subject `subject` (OpenSSL's `/O=x/CN=y` form), signed by `issuer` (`ca`
    /// or `other-ca`).
    @discardableResult
    public func client(_ name: String, subject: String, issuer: String = "ca") throws -> (certificate: String, key: String) {
        try issue(name, subject: subject, serial: 1000 + abs(name.hashValue % 1000), by: issuer,
                  extensions: "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    }

    private func makeCA(_ name: String, subject: String) throws {
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", path(name + ".key"), "-out", path(name + ".pem"), "-days", "2", "-subj", subject])
    }

    private func issue(_ name: String, subject: String, serial: Int, by issuer: String,
                       extensions: String) throws -> (certificate: String, key: String) {
        try extensions.write(toFile: path(name + ".ext"), atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj", subject])
        try Self.openssl(["x509", "-req", "-in", path(name + ".csr"), "-CA", path(issuer + ".pem"),
                          "-CAkey", path(issuer + ".key"), "-set_serial", String(serial), "-days", "2",
                          "-extfile", path(name + ".ext"), "-out", path(name + ".pem")])
        return (path(name + ".pem"), path(name + ".key"))
    }

    private func path(_ file: String) -> String { directory.path + "/" + file }

    /// Runs `openssl` with `arguments`; throws with its output when it fails.
    static func openssl(_ arguments: [String]) throws {
        let result = try run(["/usr/bin/openssl"] + arguments)
        guard result.status == 0 else { throw FixtureError("openssl \(arguments.first ?? "") failed: \(result.output)") }
    }

    /// Runs `command` with standard input empty; its status and its standard output and error together.
    public static func run(_ command: [String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run(command[0], Array(command.dropFirst()), mergingStandardError: true)
        return (result.exit.status, result.out)
    }

    /// `curl` over HTTPS to 127.0.0.1:`port`, trusting the CA, with a client certificate when given.
    /// One at a time per instance (the headers go through one file).
    /// Returns curl's exit status, the HTTP status (0 when none), the body and the response's headers.
    public func curl(port: UInt16, _ path: String, method: String = "GET", json: String? = nil,
                     client: (certificate: String, key: String)? = nil,
                     headers: [String] = []) throws -> (exit: Int32, status: Int, body: String, headers: String) {
        let headerFile = directory.path + "/response-headers"
        try? FileManager.default.removeItem(atPath: headerFile)
        var command = ["/usr/bin/curl", "-sS", "--max-time", "60", "--cacert", caPath, "-X", method, "-D", headerFile,
                       "-w", "\n%{http_code}", "https://127.0.0.1:\(port)\(path)"]
        if let client { command += ["--cert", client.certificate, "--key", client.key] }
        if let json { command += ["-H", "Content-Type: application/json", "--data-binary", json] }
        for header in headers { command += ["-H", header] }
        let result = try Self.run(command)
        var lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = lines.popLast().flatMap { Int($0) } ?? 0
        let received = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return (result.status, status, lines.joined(separator: "\n"), received)
    }

    /// The serial number (hex, as openssl prints it) of the certificate served on 127.0.0.1:`port`.
    public func servedSerial(port: UInt16, client: (certificate: String, key: String)? = nil) throws -> String {
        var connect = "/usr/bin/openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(caPath)'"
        if let client { connect += " -cert '\(client.certificate)' -key '\(client.key)'" }
        let result = try Self.run(["/bin/sh", "-c", connect + " </dev/null 2>/dev/null | /usr/bin/openssl x509 -noout -serial"])
        guard result.status == 0, let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("serial=") })
        else { throw FixtureError("no certificate served on port \(port): \(result.output)") }
        return String(line.dropFirst("serial=".count))
    }
}
