internal import Synchronization

/// Tells long-lived work (future Server-Sent Event streams, long polls) that the server is stopping.
///
/// Create one, hand it to the handlers that need it and to `HTTPServer.init`; the server fires it
/// once, right after it stops accepting connections and before it waits for requests in flight.
public final class ShutdownSignal: Sendable {
    /// Identifies a registered hook, for `remove(_:)`.
    public struct Token: Hashable, Sendable {
        fileprivate let value: Int
    }

    private struct State {
        var fired = false
        var nextToken = 0
        var hooks: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// A signal that has not fired.
    public init() {}

    /// True once the signal has fired.
    public var isFired: Bool { state.withLock { $0.fired } }

    /// Registers `hook` to run when the signal fires (at once, on this thread, if it already has).
    @discardableResult
    public func onShutdown(_ hook: @escaping @Sendable () -> Void) -> Token {
        let token: Int? = state.withLock { state in
            if state.fired { return nil }
            state.nextToken += 1
            state.hooks[state.nextToken] = hook
            return state.nextToken
        }
        guard let token else {
            hook()
            return Token(value: -1)
        }
        return Token(value: token)
    }

    /// Forgets a hook (a stream that ended by itself).
    public func remove(_ token: Token) {
        _ = state.withLock { $0.hooks.removeValue(forKey: token.value) }
    }

    /// Fires the signal: runs every hook once, outside the lock. Later calls do nothing.
    public func fire() {
        let hooks: [@Sendable () -> Void] = state.withLock { state in
            if state.fired { return [] }
            state.fired = true
            defer { state.hooks = [:] }
            return state.hooks.sorted { $0.key < $1.key }.map(\.value)
        }
        for hook in hooks { hook() }
    }
}
