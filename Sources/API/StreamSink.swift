import EventStream
import HTTPServer
import Synchronization

/// An event stream's sink: the HTTP response's `ResponseStream`.
final class StreamSink: EventSink {
    private let stream: ResponseStream

    init(_ stream: ResponseStream) {
        self.stream = stream
    }

    func send(_ bytes: [UInt8]) -> EventSinkResult {
        switch stream.send(bytes) {
        case .queued: .queued
        case .full: .full
        case .ended: .ended
        }
    }

    func finish(with bytes: [UInt8]?) {
        stream.finish(with: bytes)
    }
}

/// Cancels a subscription when its response ends, also when it ended (a refused stream, a client gone)
/// before the subscription existed.
final class SubscriptionEnd: Sendable {
    private let state = Mutex<(subscription: EventSubscription?, ended: Bool)>((nil, false))

    /// The response ended: the hub forgets the subscription.
    func ended() {
        let subscription = state.withLock { state in
            state.ended = true
            return state.subscription
        }
        subscription?.cancel()
    }

    /// The subscription the response carries.
    func attach(_ subscription: EventSubscription) {
        let ended = state.withLock { state in
            state.subscription = subscription
            return state.ended
        }
        if ended { subscription.cancel() }
    }
}
