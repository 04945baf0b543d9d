internal import Glibc

/// Runs blocking work (joining libmicrohttpd's threads) on a new thread, off Swift's cooperative pool.
enum DedicatedThread {
    private final class Job {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    /// Runs `work` on a new detached thread and returns when it has finished.
    static func run(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let job = Unmanaged.passRetained(Job {
                work()
                continuation.resume()
            })
            var thread = pthread_t()
            // pthread_create hands `job` (retained above) to the new thread, which releases it.
            let created = pthread_create(&thread, nil, { argument in
                let job = Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue()
                job.work()
                return nil
            }, job.toOpaque())
            if created == 0 {
                pthread_detach(thread)
            } else {
                // No thread: run here rather than never.
                job.takeRetainedValue().work()
            }
        }
    }
}
