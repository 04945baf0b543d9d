import Synchronization

/// A value worked out when it is first asked for, then kept, whoever holds a reference to it: an event's
/// data and frames, a body's ETag. Two threads asking at once may both work it out and the first stored is
/// kept, so `make` must give the same value whenever it runs; nobody waits on a lock while it does.
public final class MadeOnce<Value: Sendable>: Sendable {
    private let make: @Sendable () -> Value
    private let made: Mutex<Value?>

    /// A value `make` works out on first use.
    public init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
        made = Mutex(nil)
    }

    /// A value known already.
    public init(value: Value) {
        make = { value }
        made = Mutex(value)
    }

    /// The value, worked out now when nobody asked before.
    public var value: Value {
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
