internal import Glibc

/// Runs blocking work (an `HTTPTestClient` session) on a new thread and awaits its result, so async
/// tests never block Swift's cooperative pool (which also runs the server's handlers).
public func runOnDedicatedThread<T: Sendable>(
    _ work: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let job = ThreadJob {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
        let retained = Unmanaged.passRetained(job)
        var thread = pthread_t()
        // The new thread takes over the reference retained above and releases it when done.
        let created = pthread_create(&thread, nil, { argument in
            Unmanaged<ThreadJob>.fromOpaque(argument!).takeRetainedValue().body()
            return nil
        }, retained.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            retained.release()
            continuation.resume(throwing: HTTPTestClientError.ioFailed(errno: created))
        }
    }
}

private final class ThreadJob {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
