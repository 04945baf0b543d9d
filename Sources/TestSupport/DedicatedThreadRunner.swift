import Workers

/// Runs blocking work (an `HTTPTestClient` session) on a new thread and awaits its result, so async
/// tests never block Swift's cooperative pool (which also runs the server's handlers).
public func runOnDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await DedicatedThread.run(name: "test-client", work)
}
