import Synchronization

/// The first look for openers of a release that waits for nobody (no callback, no grace): made on the
/// worker right before the restore, and awaited by the task that watches the release.
final class FirstLook: Sendable {
    private let state = Mutex<(watch: OpenerWatch?, continuation: CheckedContinuation<OpenerWatch, Never>?)>((nil, nil))

    /// Hands over what the look saw (once; on the worker thread).
    func resolve(_ watch: OpenerWatch) {
        let continuation = state.withLock { state -> CheckedContinuation<OpenerWatch, Never>? in
            guard state.watch == nil else { return nil }
            state.watch = watch
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: watch)
    }

    /// What the look saw, once it was made. A release whose job the pool drops at shutdown never looks:
    /// its watcher then waits here until the process ends (recovery runs the release on the next start).
    var value: OpenerWatch {
        get async {
            await withCheckedContinuation { continuation in
                let seen = state.withLock { state -> OpenerWatch? in
                    if let watch = state.watch { return watch }
                    state.continuation = continuation
                    return nil
                }
                if let seen { continuation.resume(returning: seen) }
            }
        }
    }
}
