import Foundation

/// The machinery behind `WorkerPool`: the state, its lock, the worker threads and the supervisor thread.
///
/// Threads hold the core, not the `WorkerPool`, so dropping the pool can begin a shutdown and the core
/// goes away with its last thread. Every access to `state` and `drainWaiters` holds `lock`; no job runs
/// and no continuation is resumed while it is held.
final class PoolCore: @unchecked Sendable {
    /// The pool's name, the prefix of its thread names.
    let name: String
    private let lock = ConditionLock()
    private var state: PoolState
    private var drainWaiters: [DrainWaiter] = []
    /// The supervisor waits with no deadline: only a queue that starts starving gives it work. While it
    /// waits for a deadline it needs no wake-up per job (a job started later is stuck later).
    private var supervisorWaitsForever = false

    /// A `shutdown` call waiting for the pool to drain or for its deadline.
    private struct DrainWaiter {
        let deadline: UInt64
        let continuation: CheckedContinuation<[String], Never>
    }

    /// A core with no threads yet; `start` starts them.
    init(name: String, threads: Int, queueLimit: Int, stuckAfterSeconds: Double, maxExtraThreads: Int) {
        self.name = name
        state = PoolState(baseThreads: threads, queueLimit: queueLimit,
                          stuckAfterNanoseconds: Self.nanoseconds(seconds: stuckAfterSeconds),
                          maxExtraThreads: maxExtraThreads)
    }

    /// Starts the base threads and the supervisor. A host that cannot start them cannot run vfiod.
    func start() {
        lock.withLock {
            for _ in 0..<state.baseThreads {
                let error = startWorker()
                precondition(error == 0, "\(name): cannot start a worker thread (error \(error))")
            }
        }
        do {
            try DedicatedThread.start(name: threadName("watch")) { [self] in supervise() }
        } catch {
            preconditionFailure("\(name): \(error)")
        }
    }

    /// Queues `job`, or throws `queueFull` / `shuttingDown`.
    func submit(_ job: Job) throws(WorkerPoolError) {
        lock.lock()
        defer { lock.unlock() }
        try state.enqueue(job)
        // A free thread takes it; with none free, the supervisor decides whether a stuck one needs a stand-in.
        if state.idle > 0 { lock.signal(.work) } else { wakeSupervisorIfStarving() }
    }

    /// A snapshot for metrics.
    func stats() -> WorkerPoolStats {
        lock.withLock {
            let now = monotonicNanoseconds()
            let stuck = state.stuckJobs(now: now).map {
                StuckJob(key: $0.key, label: $0.label, since: $0.since,
                         seconds: Double(now &- $0.startedNanoseconds) / 1e9)
            }
            return WorkerPoolStats(name: name, threads: state.alive, baseThreads: state.baseThreads,
                                   queueLimit: state.queueLimit, maxExtraThreads: state.maxExtraThreads,
                                   busy: state.running.count, queued: state.queued,
                                   waitingKeys: state.waitingByKey, stuckJobs: stuck,
                                   extraThreads: state.extraThreads, extraThreadsStarted: state.extraThreadsStarted,
                                   rejected: state.rejected, completed: state.completed, accepting: state.accepting)
        }
    }

    /// Stops accepting jobs; queued and running jobs go on, and threads exit as the queue empties.
    func beginShutdown() {
        lock.withLock {
            guard state.accepting else { return }
            state.accepting = false
            lock.broadcast(.work)
            lock.signal(.supervisor)
        }
    }

    /// Begins a shutdown and waits until every thread has exited (returns []) or `timeout` has passed:
    /// then drops the jobs not started and returns the labels of the jobs still running.
    func shutdown(timeout: Duration) async -> [String] {
        beginShutdown()
        let deadline = monotonicNanoseconds() &+ Self.nanoseconds(seconds: Self.seconds(timeout))
        return await withCheckedContinuation { (continuation: CheckedContinuation<[String], Never>) in
            let answer: [String]? = lock.withLock {
                if state.alive == 0 { return [] }
                if state.abandoned { return runningLabels() }
                drainWaiters.append(DrainWaiter(deadline: deadline, continuation: continuation))
                lock.signal(.supervisor)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    // MARK: Threads

    /// Starts one worker thread, counted alive and idle from now. Returns 0 or the error number.
    /// Call holding the lock.
    private func startWorker() -> Int32 {
        let id = state.nextThreadID
        do throws(ThreadStartError) {
            try DedicatedThread.start(name: threadName(String(id))) { [self] in work(threadID: id) }
        } catch {
            return error.errno
        }
        state.nextThreadID += 1
        state.alive += 1
        state.idle += 1
        return 0
    }

    /// A worker thread's life: take runnable jobs until there are none and the thread is not needed.
    private func work(threadID: Int) {
        lock.lock()
        while true {
            if let job = state.take() {
                state.idle -= 1
                state.running[threadID] = RunningJob(key: job.key, label: job.label,
                                                     startedNanoseconds: monotonicNanoseconds(), since: Date())
                wakeSupervisorIfStarving()
                lock.unlock()
                job.work()
                lock.lock()
                state.running[threadID] = nil
                state.finish(job)
                state.idle += 1
                continue
            }
            // Nothing to run: exit when shutting down or surplus (an extra thread no longer needed).
            if !state.accepting || state.alive > state.baseThreads { break }
            lock.wait(.work)
        }
        state.alive -= 1
        state.idle -= 1
        var drained: [DrainWaiter] = []
        if state.alive == 0 && !state.accepting {
            drained = drainWaiters
            drainWaiters = []
            lock.signal(.supervisor)
        }
        lock.unlock()
        for waiter in drained { waiter.continuation.resume(returning: []) }
    }

    /// Wakes the supervisor when the queue starves and it may start a stand-in but has no deadline to
    /// wake at. Call holding the lock.
    private func wakeSupervisorIfStarving() {
        if supervisorWaitsForever && state.isStarving && state.extraThreads < state.maxExtraThreads {
            lock.signal(.supervisor)
        }
    }

    /// The supervisor thread: starts extra threads when stuck jobs starve the queue, and ends shutdowns
    /// whose deadline has passed. Exits once shutdown is over.
    private func supervise() {
        lock.lock()
        while true {
            let now = monotonicNanoseconds()
            var dropped: [Job] = []
            var answers: [(CheckedContinuation<[String], Never>, [String])] = []
            if drainWaiters.contains(where: { $0.deadline <= now }) {
                if !state.abandoned {
                    dropped = state.abandonWaiting()
                    lock.broadcast(.work)
                }
                let labels = runningLabels()
                answers = drainWaiters.filter { $0.deadline <= now }.map { ($0.continuation, labels) }
                drainWaiters.removeAll { $0.deadline <= now }
            }
            if state.shouldStartExtraThread(now: now) {
                if startWorker() == 0 {
                    state.extraThreadsStarted += 1
                } else {
                    // Out of threads or memory: try again later rather than spin.
                    state.spawnRetryNanoseconds = now &+ max(state.stuckAfterNanoseconds, 1_000_000_000)
                }
            }
            let over = !state.accepting && drainWaiters.isEmpty && (state.alive == 0 || state.abandoned)
            if over || !dropped.isEmpty || !answers.isEmpty {
                lock.unlock()
                for job in dropped { job.discard?() }
                for (continuation, labels) in answers { continuation.resume(returning: labels) }
                if over { return }
                lock.lock()
                continue
            }
            let deadlines = drainWaiters.map(\.deadline) + [state.nextStuckDeadline(now: now)].compactMap { $0 }
            if let deadline = deadlines.min() {
                lock.wait(.supervisor, untilNanoseconds: deadline)
            } else {
                supervisorWaitsForever = true
                lock.wait(.supervisor)
                supervisorWaitsForever = false
            }
        }
    }

    // MARK: Helpers

    /// Labels of the running jobs, longest-running first. Call holding the lock.
    private func runningLabels() -> [String] {
        state.running.values.sorted { $0.startedNanoseconds < $1.startedNanoseconds }.map(\.label)
    }

    /// "<name>-<suffix>", the name cut so that the whole fits Linux's 15-byte thread names.
    private func threadName(_ suffix: String) -> String {
        var prefix = name
        while prefix.utf8.count + 1 + suffix.utf8.count > 15 && !prefix.isEmpty { prefix.removeLast() }
        return prefix + "-" + suffix
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole nanoseconds in `seconds`, clamped to 0…100 years.
    private static func nanoseconds(seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds, 100 * 365 * 86_400) * 1e9)
    }
}
