import Foundation
internal import Glibc

/// vfiod's one way to start an OS thread: detached, named (`top -H`), never Swift's cooperative pool, so
/// the body may block in the kernel or on SQLite for as long as it likes.
public enum DedicatedThread {
    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a detached thread named `name` (cut to the 15 bytes Linux keeps) running `body`. Throws
    /// ``ThreadStartError`` when the system refuses a thread (then `body` never runs).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
        let start = Unmanaged.passRetained(Start(name: name, body: body))
        var thread = pthread_t()
        // pthread_create hands `start` (retained above) to the new thread, which takes over that reference.
        let created = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            // Foundation names the calling pthread (pthread_setname_np is not imported from Glibc); Linux
            // keeps 15 bytes of a thread name and refuses longer ones, so the name is cut first.
            var name = start.name
            while name.utf8.count > 15 { name.removeLast() }
            Thread.current.name = name
            start.body()
            return nil
        }, start.toOpaque())
        guard created == 0 else {
            // No thread took the reference: give it back.
            start.release()
            throw ThreadStartError(name: name, errno: created)
        }
        pthread_detach(thread)
    }

    /// Runs `work` on a new thread and returns its result, suspending the calling task (never blocking
    /// its thread) until it is done.
    public static func run<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            do {
                try start(name: name) {
                    do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// The system refused a thread (`EAGAIN`: a thread or memory limit).
public struct ThreadStartError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The thread's name.
    public let name: String
    /// `pthread_create`'s error number.
    public let errno: Int32

    /// One line: which thread, and why.
    public var description: String { "cannot start thread \(name): \(String(cString: strerror(errno)))" }
}
