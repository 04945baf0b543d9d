import Synchronization

/// A value worked out when it is first asked for, then kept: an event's data and frames, a body's ETag.
///
/// It lives inline in the object that owns it (a `let` of a final class): no object, no closure and no
/// generic metadata of its own, so the thousands of events a lease phase publishes and then drops cost no
/// more to free than their own fields. The owner passes the means to make the value at each ask. Two
/// threads asking at once may both work it out and the first stored is kept, so `make` must give the same
/// value whenever it runs; nobody waits on a lock while it does.
public struct MadeOnce<Value: Sendable>: ~Copyable, Sendable {
    private let made: Mutex<Value?>

    /// A value worked out on first use.
    public init() {
        made = Mutex(nil)
    }

    /// A value known already.
    public init(value: Value) {
        made = Mutex(value)
    }

    /// The value, worked out now by `make` when nobody asked before.
    public func value(_ make: () -> Value) -> Value {
        if let done = made.withLock({ $0 }) { return done }
        let value = make()
        return made.withLock { stored in
            if let stored { return stored }
            stored = value
            return value
        }
    }

    /// The value when it was worked out already, else nil.
    public var valueIfMade: Value? { made.withLock { $0 } }
}
