#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VFIOCore

/// A test hook standing in for a SIGKILL inside one simulated sysfs write: armed with a step count, it
/// lets that many steps of tree changes happen and then throws before the next one, so the change stops
/// exactly there, its ``TreeIntent`` record left behind as a killed process leaves it. A new
/// ``SimulatedKernel`` opening the tree then shows what a restarted vfiod would find.
final class TreeInterruption: Sendable {
    /// Steps left before the interruption; `nil` when not armed.
    private let remaining = Mutex<Int?>(nil)
    /// Whether `remaining` may be set: read without the lock at every step, so that the writes of many
    /// threads do not take turns on it while nothing is armed (always, outside tests).
    private let mayBeArmed = Atomic<Bool>(false)

    /// Interrupts before step `steps + 1` from now (0: before the next step).
    func arm(afterSteps steps: Int) {
        remaining.withLock { $0 = max(0, steps) }
        mayBeArmed.store(true, ordering: .releasing)
    }

    /// Whether an armed interruption has not happened yet.
    var isArmed: Bool { mayBeArmed.load(ordering: .acquiring) && remaining.withLock { $0 != nil } }

    /// Called before each step of a tree change: throws ``KernelError`` (`EINTR`, call `simulated-kill`)
    /// once the armed count is used up, and disarms. `path` is evaluated only then.
    func step(_ path: @autoclosure () -> String) throws(KernelError) {
        guard mayBeArmed.load(ordering: .acquiring) else { return }
        let interrupt = remaining.withLock { left -> Bool in
            guard let count = left else { return false }
            if count == 0 {
                left = nil
                return true
            }
            left = count - 1
            return false
        }
        if interrupt { throw KernelError(call: "simulated-kill", path: path(), errno: EINTR) }
    }
}
