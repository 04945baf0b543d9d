import Foundation
import ServiceLog
import Store

/// The lease-expiry loop: it sleeps until the earliest active lease falls due (or an assignment changes,
/// or `recheckSeconds` pass), not on a fixed tick, so an idle host with no lease reads nothing.
extension AssignmentService {
    /// The longest the loop sleeps without looking at the database: it bounds how late a lease expires
    /// when the wall clock jumps while the loop sleeps (its sleep runs on the monotonic clock).
    public static let expiryRecheckSeconds = 60.0

    /// Expires leases as they fall due until the calling task is cancelled.
    public func expireLeasesWhenDue() async {
        while !Task.isCancelled {
            let seen = live.changes.look()
            await expireDue()
            let next: Date?
            do {
                next = try await store { database in
                    try database.read { try AssignmentRecords.nextExpiry(in: $0) }
                }
            } catch {
                Log.warning("expiry check failed (retried in \(Int(Self.expiryRecheckSeconds)) s): \(error)")
                next = nil
            }
            // A lease still active past its time is one whose release just failed: retried in a second.
            let due = next.map { $0.timeIntervalSince(now()) } ?? .infinity
            let wait = min(Self.expiryRecheckSeconds, due > 0 ? due + 0.001 : 1)
            await live.changes.sleep(seconds: wait, unlessChangedAfter: seen, now: now())
        }
    }
}
