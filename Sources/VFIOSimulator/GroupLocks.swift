import Foundation

/// The simulated kernel's tree locks: one per IOMMU group (striped: groups whose numbers agree modulo
/// ``count`` share one), so binds and unbinds in different groups run side by side, as the kernel's
/// per-device locks let them, while every change inside one group — where `dev/vfio/<group>` comes and goes
/// with its members' drivers — is serialised. Functions without a group share the lock of group 0.
///
/// A lock that sleeps at once (`NSLock`, a pthread mutex) rather than spinning first: a holder does file
/// system calls for tens of microseconds, longer than a spin is worth.
final class GroupLocks: Sendable {
    /// How many locks the groups are spread over.
    static let count = 64
    private let locks: [NSLock] = (0..<GroupLocks.count).map { _ in NSLock() }

    /// Runs `body` holding the lock of `group` (`nil`: no group).
    func withLock<Result>(group: Int?, _ body: () throws -> Result) rethrows -> Result {
        let lock = locks[Self.index(of: group)]
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `body` holding every lock (a change of the whole tree: a reboot), taken in one order.
    func withAllLocks<Result>(_ body: () throws -> Result) rethrows -> Result {
        for lock in locks { lock.lock() }
        defer { for lock in locks.reversed() { lock.unlock() } }
        return try body()
    }

    /// The lock `group` uses.
    static func index(of group: Int?) -> Int {
        guard let group else { return 0 }
        return Int(group.magnitude % UInt(count))
    }
}
