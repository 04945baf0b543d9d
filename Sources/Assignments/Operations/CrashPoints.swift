import Foundation
import Synchronization

/// Test-only crash injection for the journal: with `VFIOD_TEST_CRASH_AT=N`, the process kills itself
/// with SIGKILL at the N-th crash point. An operation's journal has one before its first kernel write and
/// one after each write, so that the N-th point falls between two kernel writes, wherever the commits are.
///
/// Unset in production; the crash-between-every-two-writes test walks N = 1, 2, … until a run finishes.
///
/// With `VFIOD_TEST_CRASH_ON=LABEL`, it kills itself at the named point `LABEL` instead (a point that is not
/// a kernel write, such as `assignment created`: committed, not yet answered).
enum CrashPoints {
    private static let target: Int? = ProcessInfo.processInfo.environment["VFIOD_TEST_CRASH_AT"].flatMap(Int.init)
    private static let named: String? = ProcessInfo.processInfo.environment["VFIOD_TEST_CRASH_ON"]

    static func pass(named label: String) {
        guard label == named else { return }
        FileHandle.standardError.write(Data("vfiod: test crash at \(label)\n".utf8))
        kill(getpid(), SIGKILL)
    }
    private static let count = Atomic<Int>(0)

    static func pass(_ label: String) {
        guard let target else { return }
        let reached = count.add(1, ordering: .sequentiallyConsistent).newValue
        if reached == target {
            FileHandle.standardError.write(Data("vfiod: test crash at point \(reached) (\(label))\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}
