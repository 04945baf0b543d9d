import Foundation

/// An `http://host[:port][/path]` URL a holder asked to be called at when its release starts. Plain HTTP
/// only: vfiod carries no TLS stack, and the callback carries no secret (the holder reads the assignment
/// with its own token).
public struct CallbackURL: Sendable, Hashable {
    /// The host name or address.
    public let host: String
    /// The port (80 when absent).
    public let port: UInt16
    /// The path and query, `/` when absent.
    public let path: String

    /// Parses `text`; nil unless it is an http URL with a host, at most 2,048 characters, and no spaces.
    public init?(_ text: String) {
        guard text.utf8.count <= 2048, text.hasPrefix("http://"), !text.contains(where: { $0.isWhitespace }) else { return nil }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = String(authority)
        var port: UInt16 = 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let parsed = UInt16(authority[authority.index(after: colon)...]), parsed > 0 else { return nil }
            port = parsed
            host = String(authority[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }
}
