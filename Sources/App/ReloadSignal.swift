import ServiceLog
import Dispatch
import Glibc
import Synchronization

/// SIGHUP, caught from the moment ``install()`` returns (its default action would end vfiod): runs the
/// reload action given to ``onSignal(_:)`` on a queue of its own, never on Swift's cooperative pool.
final class ReloadSignal: Sendable {
    private struct Source: @unchecked Sendable {
        // Dispatch sources are thread-safe; kept only so it lives as long as this object.
        let source: DispatchSourceSignal
    }

    private let source: Source
    private let action = Mutex<(@Sendable () -> Void)?>(nil)

    private init(source: DispatchSourceSignal) { self.source = Source(source: source) }

    /// Ignores SIGHUP's default action and starts catching it; until an action is set, a SIGHUP is logged
    /// and otherwise ignored.
    static func install() -> ReloadSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "vfiod.reload"))
        let catcher = ReloadSignal(source: source)
        source.setEventHandler { catcher.received() }
        source.resume()
        return catcher
    }

    /// What a SIGHUP does from now on.
    func onSignal(_ body: @escaping @Sendable () -> Void) {
        action.withLock { $0 = body }
    }

    private func received() {
        guard let body = action.withLock({ $0 }) else {
            Log.info("received SIGHUP before serving: nothing to reload yet")
            return
        }
        body()
    }
}
