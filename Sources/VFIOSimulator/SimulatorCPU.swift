#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The CPU the simulated kernel itself spends on its callers' threads, so that a benchmark can show it
/// apart from vfiod's own: the thread CPU time (`CLOCK_THREAD_CPUTIME_ID`, user and system) of each of its
/// writes (`driver_override`, `unbind`, `drivers_probe`, `bind`: the tree's changes, their intent files,
/// the state file), resets, opener searches, config-space and kernel-log reads, less what the uevent
/// watcher it calls spends (vfiod's code). A call made inside another is counted once, in the outer one.
/// Reads of the tree (`driver(of:)`, scans) are not counted: they are the same ``SysfsQueries`` and
/// ``SysfsScanner`` vfiod runs against the real kernel. Time spent blocked (a held unbind) costs no CPU.
public final class SimulatorCPU: Sendable {
    private let nanoseconds = Atomic<Int64>(0)
    private let calls = Atomic<Int64>(0)

    /// A call in progress: its start, or `nil` inside another call.
    struct Call {
        let start: Int64?
    }

    init() {}

    /// CPU seconds counted so far.
    public var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// Calls counted so far (outermost ones).
    public var callCount: Int { Int(calls.load(ordering: .relaxed)) }

    /// Starts counting a call on this thread; pair it with ``end(_:)`` (`defer`).
    func begin() -> Call {
        let depth = Self.depth
        Self.depth = depth + 1
        return Call(start: depth == 0 ? Self.threadNanoseconds() : nil)
    }

    /// Ends a call begun with ``begin()``.
    func end(_ call: Call) {
        Self.depth -= 1
        guard let start = call.start else { return }
        nanoseconds.add(Self.threadNanoseconds() - start, ordering: .relaxed)
        calls.add(1, ordering: .relaxed)
    }

    /// Runs `body` (vfiod's code, called from inside the simulator) without counting its CPU.
    func excluding(_ body: () -> Void) {
        guard Self.depth > 0 else { return body() }
        let start = Self.threadNanoseconds()
        body()
        nanoseconds.subtract(Self.threadNanoseconds() - start, ordering: .relaxed)
    }

    /// The calling thread's CPU time in nanoseconds.
    private static func threadNanoseconds() -> Int64 {
        var time = timespec()
        // clock_gettime(2) fills `time` with this thread's CPU time; it cannot fail for this clock.
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// The thread-specific key that holds how deep in simulator calls this thread is: one for every kernel
    /// (keys are few, and a thread is inside one kernel's call at a time).
    private static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// This thread's depth in simulator calls (0: outside), kept in the key's pointer-sized value itself.
    private static var depth: Int {
        get { Int(bitPattern: pthread_getspecific(depthKey)) }
        set { pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: newValue)) }
    }
}
