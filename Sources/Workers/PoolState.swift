import Foundation

/// Everything a `WorkerPool` knows, with the rules that change it; no threads and no locking here.
/// `PoolCore` owns one and touches it only while holding its lock.
///
/// Ordering: a job without a key goes straight to `runnable`. A keyed job goes to `runnable` when no
/// job of its key is runnable or running; otherwise it waits in the key's backlog, and the job ahead of
/// it moves it to `runnable` when it finishes. So jobs of one key run one at a time, in submission order.
struct PoolState {
    /// Threads the pool keeps alive while accepting work.
    let baseThreads: Int
    /// How many jobs may wait (runnable or in a backlog) before `enqueue` refuses more.
    let queueLimit: Int
    /// How long a thread may be inside one job before that job counts as stuck.
    let stuckAfterNanoseconds: UInt64
    /// How many threads may be alive beyond `baseThreads`.
    let maxExtraThreads: Int

    /// An empty state: no threads, nothing queued, accepting.
    init(baseThreads: Int, queueLimit: Int, stuckAfterNanoseconds: UInt64, maxExtraThreads: Int) {
        self.baseThreads = baseThreads
        self.queueLimit = queueLimit
        self.stuckAfterNanoseconds = stuckAfterNanoseconds
        self.maxExtraThreads = maxExtraThreads
    }

    /// Jobs any thread may start now, oldest first.
    private(set) var runnable = FIFO<Job>()
    /// Keys with a job runnable or running, mapped to the jobs waiting behind it.
    private var backlogs: [String: FIFO<Job>] = [:]
    /// Jobs accepted and not started.
    private(set) var queued = 0
    /// Accepted and not started jobs, per key.
    private(set) var waitingByKey: [String: Int] = [:]

    /// The job each busy thread is inside, by thread id.
    var running: [Int: RunningJob] = [:]
    /// Worker threads started and not yet exited.
    var alive = 0
    /// Worker threads alive and not inside a job (including threads started but not yet running).
    var idle = 0
    /// Id for the next worker thread.
    var nextThreadID = 0
    /// False once shutdown has begun.
    var accepting = true
    /// True once a shutdown timed out: waiting jobs were dropped and nothing more will start.
    private(set) var abandoned = false
    /// No extra thread is started before this monotonic time (set after a failed thread start).
    var spawnRetryNanoseconds: UInt64 = 0

    /// Counters for `WorkerPoolStats`.
    var extraThreadsStarted = 0
    private(set) var rejected = 0
    var completed = 0

    /// Accepts `job` or says why not.
    mutating func enqueue(_ job: Job) throws(WorkerPoolError) {
        guard accepting else { throw .shuttingDown }
        guard queued < queueLimit else {
            rejected += 1
            throw .queueFull
        }
        queued += 1
        guard let key = job.key else {
            runnable.append(job)
            return
        }
        waitingByKey[key, default: 0] += 1
        if backlogs[key] == nil {
            backlogs[key] = FIFO()
            runnable.append(job)
        } else {
            backlogs[key]?.append(job)
        }
    }

    /// Removes and returns the oldest runnable job, or nil.
    mutating func take() -> Job? {
        guard let job = runnable.popFirst() else { return nil }
        queued -= 1
        if let key = job.key {
            let left = waitingByKey[key, default: 1] - 1
            waitingByKey[key] = left > 0 ? left : nil
        }
        return job
    }

    /// Records that `job` returned: the next job of its key, if any, becomes runnable.
    mutating func finish(_ job: Job) {
        completed += 1
        guard let key = job.key else { return }
        if let next = backlogs[key]?.popFirst() {
            runnable.append(next)
        } else {
            backlogs[key] = nil
        }
    }

    /// Stops starting jobs for good and returns every job not yet started, oldest runnable first.
    mutating func abandonWaiting() -> [Job] {
        abandoned = true
        var dropped = runnable.removeAll()
        for key in backlogs.keys.sorted() {
            dropped += backlogs[key]?.removeAll() ?? []
        }
        // Keys of running jobs stay active, with empty backlogs, so `finish` still balances.
        backlogs = Dictionary(running.values.compactMap(\.key).map { ($0, FIFO<Job>()) },
                              uniquingKeysWith: { first, _ in first })
        queued = 0
        waitingByKey = [:]
        return dropped
    }

    /// Threads alive beyond `baseThreads`.
    var extraThreads: Int { max(0, alive - baseThreads) }

    /// True when a runnable job waits and no thread is free to take it.
    var isStarving: Bool { !runnable.isEmpty && idle == 0 }

    /// Jobs a thread has been inside for at least `stuckAfterNanoseconds` at `now`.
    func stuckJobs(now: UInt64) -> [RunningJob] {
        running.values
            .filter { now &- $0.startedNanoseconds >= stuckAfterNanoseconds }
            .sorted { $0.startedNanoseconds < $1.startedNanoseconds }
    }

    /// True when another thread should start: a job waits, every thread is busy, and more threads are
    /// stuck than extra threads replace them, within `maxExtraThreads`.
    func shouldStartExtraThread(now: UInt64) -> Bool {
        guard !abandoned, isStarving, extraThreads < maxExtraThreads, now >= spawnRetryNanoseconds else {
            return false
        }
        return stuckJobs(now: now).count > extraThreads
    }

    /// When `shouldStartExtraThread` may next turn true by time passing alone, or nil if it cannot.
    func nextStuckDeadline(now: UInt64) -> UInt64? {
        guard !abandoned, isStarving, extraThreads < maxExtraThreads else { return nil }
        if now < spawnRetryNanoseconds { return spawnRetryNanoseconds }
        return running.values
            .map { $0.startedNanoseconds &+ stuckAfterNanoseconds }
            .filter { $0 > now }
            .min()
    }
}
