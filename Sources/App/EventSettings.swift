/// The event stream's limits (config `events`): `maxStreams`, `heartbeatSeconds`, `bufferBytes`, `ringEvents`.
public struct EventSettings: Sendable, Hashable {
    /// The most event streams open at once; past it `GET /v1/events` answers `503 too_many_streams`.
    public var maxStreams = 256
    /// Seconds of quiet after which a stream gets a heartbeat comment.
    public var heartbeatSeconds = 15
    /// The most bytes queued for one reader; a reader that falls further behind gets `overflow`.
    public var bufferBytes = 1 << 20
    /// The most events kept for readers resuming within a boot.
    public var ringEvents = 4096
    /// The most bytes the ring keeps.
    public var ringBytes = 16 << 20

    /// The defaults.
    public init() {}

    /// `"events": {"maxStreams": 256, "heartbeatSeconds": 15, "bufferBytes": 1048576, "ringEvents": 4096}`.
    struct File: Decodable {
        var maxStreams: Int?
        var heartbeatSeconds: Int?
        var bufferBytes: Int?
        var ringEvents: Int?

        func apply(to settings: inout EventSettings) throws(ConfigurationError) {
            if let maxStreams {
                guard (1...100_000).contains(maxStreams) else { throw ConfigurationError("config file: events.maxStreams must be 1 to 100000") }
                settings.maxStreams = maxStreams
            }
            if let heartbeatSeconds {
                guard (1...3600).contains(heartbeatSeconds) else { throw ConfigurationError("config file: events.heartbeatSeconds must be 1 to 3600") }
                settings.heartbeatSeconds = heartbeatSeconds
            }
            if let bufferBytes {
                guard (4096...(256 << 20)).contains(bufferBytes) else {
                    throw ConfigurationError("config file: events.bufferBytes must be 4096 to 268435456")
                }
                settings.bufferBytes = bufferBytes
            }
            if let ringEvents {
                guard (1...1_000_000).contains(ringEvents) else { throw ConfigurationError("config file: events.ringEvents must be 1 to 1000000") }
                settings.ringEvents = ringEvents
            }
        }
    }
}
