import Foundation

/// Where the client talks to and how it prints: the options every client command shares.
struct ClientSettings: Sendable {
    /// The default server, when neither `--server` nor `VFIOD_SERVER` names one.
    static let defaultServer = "http://127.0.0.1:8460"

    /// How results are printed.
    enum Output: String, Sendable { case table, json }

    /// The server's base URL, without a trailing slash.
    var server: String
    /// The bearer token, from `VFIOD_TOKEN` or `--token-file`; nil sends none.
    var token: String?
    /// `-o json`: the API's JSON, byte for byte; otherwise tables for people.
    var output: Output
    /// Whether to colour: standard output is a terminal and `NO_COLOR` is unset or empty.
    var colour: Bool
    /// A PEM file of CA certificates for an https server (`--cacert`), else the system's.
    var caCertificates: String?

    /// Reads the shared options out of `arguments` and the environment.
    static func read(_ arguments: inout Arguments, environment: [String: String]) throws(ClientError) -> ClientSettings {
        if !(try arguments.values("--token")).isEmpty || arguments.flag("--token") {
            throw .usage("--token is not accepted: a token on the command line shows in ps; "
                         + "set VFIOD_TOKEN or pass --token-file PATH")
        }
        let server = try arguments.value("--server") ?? environment["VFIOD_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? defaultServer
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw .usage("--server: expected an http:// or https:// URL, got \"\(server)\"")
        }
        let token: String?
        if let path = try arguments.value("--token-file") {
            token = try readToken(path)
        } else {
            token = environment["VFIOD_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        }
        let outputName = try arguments.value("-o", aliases: ["--output"]) ?? "table"
        guard let output = Output(rawValue: outputName) else {
            throw .usage("-o: expected json or table, got \"\(outputName)\"")
        }
        let noColour = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let colour = !noColour && isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
        let ca = try arguments.value("--cacert")
        var trimmed = server
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return ClientSettings(server: trimmed, token: token, output: output, colour: colour, caCertificates: ca)
    }

    /// The token in `path`: its first line, without surrounding white space.
    private static func readToken(_ path: String) throws(ClientError) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .usage("--token-file: cannot read \(path)")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw .usage("--token-file: \(path) is empty") }
        return token
    }
}
