/// The event hub's limits (config `events.bufferBytes`, `events.ringEvents`); `events.maxStreams` and
/// `events.heartbeatSeconds` size the HTTP server (``Configuration/maxStreams``).
public struct EventSettings: Sendable, Hashable {
    /// The most bytes queued for one reader; a reader that falls further behind gets `overflow`.
    public var bufferBytes = 1 << 20
    /// The most events kept for readers resuming within a boot.
    public var ringEvents = 4096
    /// The most bytes the ring keeps.
    public var ringBytes = 16 << 20

    /// The defaults.
    public init() {}

    /// Applies the config file's values, checked.
    mutating func apply(bufferBytes: Int?, ringEvents: Int?) throws(ConfigurationError) {
        if let bufferBytes {
            guard (4096...(256 << 20)).contains(bufferBytes) else {
                throw ConfigurationError("config file: events.bufferBytes must be 4096 to 268435456")
            }
            self.bufferBytes = bufferBytes
        }
        if let ringEvents {
            guard (1...1_000_000).contains(ringEvents) else { throw ConfigurationError("config file: events.ringEvents must be 1 to 1000000") }
            self.ringEvents = ringEvents
        }
    }
}
