/// The config file's `cors` and `events` keys that size the HTTP server.
extension ConfigFile {
    /// `"cors": {"allowedOrigins": ["https://ui.example:8443"]}`.
    struct CORS: Decodable {
        var allowedOrigins: [String]?
    }

    /// `"events": {"maxStreams": 256, "heartbeatSeconds": 15, "bufferBytes": 1048576, "ringEvents": 4096}`
    /// (the last two: ``EventSettings``).
    struct Events: Decodable {
        var maxStreams: Int?
        var heartbeatSeconds: Int?
        var bufferBytes: Int?
        var ringEvents: Int?
    }

    /// Applies `cors.allowedOrigins`, `events.maxStreams` and `events.heartbeatSeconds`, checked.
    func applyStreaming(to configuration: inout Configuration) throws(ConfigurationError) {
        if let origins = cors?.allowedOrigins {
            for origin in origins where !Self.isOrigin(origin) {
                throw ConfigurationError("config file: cors.allowedOrigins: \(origin) is not an origin (scheme://host[:port], no path)")
            }
            configuration.corsAllowedOrigins = origins
        }
        if let value = events?.maxStreams {
            guard value >= 0, value <= 65536 else {
                throw ConfigurationError("config file: events.maxStreams must be 0 to 65536")
            }
            configuration.maxStreams = value
        }
        if let value = events?.heartbeatSeconds {
            guard value >= 0, value <= 3600 else {
                throw ConfigurationError("config file: events.heartbeatSeconds must be 0 (none) to 3600")
            }
            configuration.streamHeartbeatSeconds = value
        }
    }

    /// `http://` or `https://`, then a host (and port) with no path, query, user or space: what a
    /// browser sends in `Origin`.
    static func isOrigin(_ text: String) -> Bool {
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            let authority = text.dropFirst(scheme.count)
            return !authority.isEmpty && !authority.contains { "/?#@* \t".contains($0) }
        }
        return false
    }
}
