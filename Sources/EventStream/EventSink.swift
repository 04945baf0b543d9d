/// What an event reader's bytes go to: the HTTP response of its stream. Never blocks.
public protocol EventSink: AnyObject, Sendable {
    /// Queues `bytes`: `.queued`; `.full` when they would pass the sink's capacity (nothing queued);
    /// `.ended` when the reader is gone.
    func send(_ bytes: [UInt8]) -> EventSinkResult
    /// Queues `bytes` (past the capacity if need be) and ends the stream once they are sent.
    func finish(with bytes: [UInt8]?)
}

/// What ``EventSink/send(_:)`` did.
public enum EventSinkResult: Sendable, Hashable {
    /// The bytes are queued.
    case queued
    /// The bytes would pass the capacity: nothing was queued.
    case full
    /// The stream has ended.
    case ended
}

