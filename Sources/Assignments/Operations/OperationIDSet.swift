import Synchronization

/// A set of operation ids shared between threads: the releases stuck now (openers kept the devices past
/// `releaseTimeoutSeconds` under `wait`, reported by `/readyz` and the metrics), and the releases whose
/// workflow has started (so a repeated DELETE never starts a second one).
final class OperationIDSet: Sendable {
    private let ids = Mutex<Set<String>>([])

    /// Adds `id`; false when it was there already.
    @discardableResult
    func insert(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
    func remove(_ id: String) { _ = ids.withLock { $0.remove(id) } }
    var all: [String] { ids.withLock { $0.sorted() } }
}
