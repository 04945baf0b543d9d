import Foundation
internal import Glibc

/// Starts detached OS threads for the pool: dedicated threads, never Swift's cooperative pool, so a job
/// may block in the kernel for as long as it likes.
enum PoolThread {
    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a detached thread named `name` (cut to the 15 bytes Linux keeps) running `body`.
    /// Returns 0, or the error number when the thread could not be started (then `body` never runs).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
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
            return created
        }
        pthread_detach(thread)
        return 0
    }
}
