internal import Glibc

/// A pthread mutex with two condition variables, one for the worker threads and one for the supervisor,
/// so waking one kind never wakes the other. Timed waits measure against `CLOCK_MONOTONIC`, which a wall
/// clock change does not move.
///
/// `Synchronization.Mutex` has no condition variables and `NSCondition` has one condition per mutex and
/// times out against the wall clock: hence this small wrapper.
final class ConditionLock: @unchecked Sendable {
    /// Which condition variable to wait on or wake.
    enum Condition: Int {
        /// Worker threads wait here for a runnable job.
        case work = 0
        /// The supervisor waits here for a change worth looking at, or for its next deadline.
        case supervisor = 1
    }

    // The pthread objects must not move once initialised, so they live in manually allocated memory
    // (never in Swift stored properties, which Swift may move) and are freed in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // A default (non-recursive) mutex: nothing in the pool locks it twice on one thread.
        pthread_mutex_init(mutex, nil)
        conditions = .allocate(capacity: 2)
        conditions.initialize(repeating: pthread_cond_t(), count: 2)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // glibc supports CLOCK_MONOTONIC for condition variables; `wait(_:untilNanoseconds:)` relies on it.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        for index in 0..<2 {
            pthread_cond_init(conditions + index, &attributes)
        }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        // No thread can be waiting: every thread that uses the lock holds a reference to its owner.
        for index in 0..<2 {
            pthread_cond_destroy(conditions + index)
        }
        pthread_mutex_destroy(mutex)
        conditions.deinitialize(count: 2)
        conditions.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Takes the mutex.
    func lock() {
        pthread_mutex_lock(mutex)
    }

    /// Releases the mutex.
    func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` holding the mutex.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits on `condition`; the mutex must be held, and is held again on return. May wake spuriously.
    func wait(_ condition: Condition) {
        pthread_cond_wait(conditions + condition.rawValue, mutex)
    }

    /// Waits on `condition` until woken or until the monotonic clock reads `deadline` nanoseconds.
    /// The mutex must be held, and is held again on return. May wake spuriously.
    func wait(_ condition: Condition, untilNanoseconds deadline: UInt64) {
        // The deadline is absolute CLOCK_MONOTONIC time, the clock set on the condition in init.
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(conditions + condition.rawValue, mutex, &time)
    }

    /// Wakes at least one thread waiting on `condition`, if any.
    func signal(_ condition: Condition) {
        pthread_cond_signal(conditions + condition.rawValue)
    }

    /// Wakes every thread waiting on `condition`.
    func broadcast(_ condition: Condition) {
        pthread_cond_broadcast(conditions + condition.rawValue)
    }
}

/// Nanoseconds on `CLOCK_MONOTONIC`: the clock stuck detection and shutdown deadlines are measured on.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
