import Workers
internal import CSQLite
import Foundation
import Synchronization

/// Moves the write-ahead log into the database file from a thread of its own, so the writer never waits
/// for a checkpoint's `fsync` while it holds the database (on a busy host that stall, inside the one write
/// lock, was what capped lease throughput).
///
/// A `PASSIVE` checkpoint on a separate connection at start, then after writes, at most one per `interval`:
/// it copies what no reader still needs and never blocks readers or the writer. With nothing written the
/// thread sleeps until the next write ends (``CommitSignal``), so an idle vfiod never wakes it. The writer's automatic checkpoint stays on as a backstop, at a
/// threshold high enough that it rarely runs (``backstopPages``).
public final class WALCheckpointer: Sendable {
    /// The writer's `wal_autocheckpoint` while a checkpointer runs: 4,096 pages (16 MiB with 4 KiB pages).
    public static let backstopPages = 4_096
    /// The size the log file is cut back to after a checkpoint reset it (`journal_size_limit`), so that
    /// the disk space vfiod needs is the database plus at most about this much.
    public static let logSizeLimitBytes = 16 << 20

    private let stopping = Atomic<Bool>(false)
    private let commits: CommitSignal
    /// Checkpoints run so far, and whether the thread sleeps waiting for a write (tests).
    private let progress = Progress()

    /// What ``activity`` reports, under its own condition so that tests can wait for a change.
    private final class Progress: @unchecked Sendable {
        // @unchecked: both fields are guarded by `condition`.
        let condition = NSCondition()
        var checkpoints: UInt64 = 0
        var idle = false

        func update(_ change: (Progress) -> Void) {
            condition.lock()
            change(self)
            condition.broadcast()
            condition.unlock()
        }
    }
    /// The last checkpoint's report: frames in the log and frames of it in the database (-1, -1 before
    /// the first, or when the connection did not see a log).
    private let report = Mutex<(logFrames: Int32, checkpointedFrames: Int32)>((-1, -1))

    /// Starts checkpointing the database at `database.path` after writes, at most every `interval`, and raises its writer's
    /// automatic checkpoint to ``backstopPages``. Throws `DatabaseError` when the connection cannot open.
    public init(database: Database, interval: Duration = .milliseconds(250)) throws {
        commits = database.writer.commits
        var handle: OpaquePointer?
        // The checkpointer's own read-write connection, serialized; closed by its thread when it stops.
        guard sqlite3_open_v2(database.path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK,
              let handle else {
            let error = DatabaseError(.open, connection: handle, path: database.path, sql: nil)
            sqlite3_close_v2(handle)
            throw error
        }
        sqlite3_busy_timeout(handle, 100)
        try database.execute("PRAGMA wal_autocheckpoint=\(Self.backstopPages); PRAGMA journal_size_limit=\(Self.logSizeLimitBytes)")
        let connection = Connection(handle: handle, path: database.path)
        // A connection learns that the database is in WAL mode only when it first reads it; until then a
        // checkpoint on it is a no-op that reports success.
        _ = try connection.query("SELECT count(*) FROM sqlite_schema") { $0.int64(0) }
        try connection.execute("PRAGMA journal_size_limit=\(Self.logSizeLimitBytes)")
        nonisolated(unsafe) let owned = connection
        let pause = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        try DedicatedThread.start(name: "wal-checkpoint") { [self] in
            var seen = commits.current
            while !stopping.load(ordering: .relaxed) {
                // PASSIVE: copies the frames no reader needs; waits for no one. Failures (busy) retry after
                // the next write.
                var logFrames: Int32 = -1
                var checkpointedFrames: Int32 = -1
                if sqlite3_wal_checkpoint_v2(owned.handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &checkpointedFrames) == SQLITE_OK {
                    report.withLock { $0 = (logFrames, checkpointedFrames) }
                }
                progress.update { $0.checkpoints += 1 }
                Thread.sleep(forTimeInterval: pause)
                seen = waitForWrites(after: seen)
            }
            _ = owned
        }
    }

    /// Sleeps until a write ended after `seen` (at once when one did meanwhile) or the checkpointer stops.
    private func waitForWrites(after seen: UInt64) -> UInt64 {
        let stopped = { self.stopping.load(ordering: .relaxed) }
        guard commits.current == seen, !stopped() else { return commits.current }
        progress.update { $0.idle = true }
        defer { progress.update { $0.idle = false } }
        return commits.wait(after: seen, unless: stopped)
    }

    /// Checkpoints run so far, and whether the thread now sleeps until the next write (tests).
    var activity: (checkpoints: UInt64, waitingForWrites: Bool) {
        progress.condition.withLock { (progress.checkpoints, progress.idle) }
    }

    /// Blocks until more than `checkpoints` checkpoints ran and the thread sleeps until the next write (tests).
    func waitUntilAsleep(after checkpoints: UInt64) {
        progress.condition.lock()
        while !(progress.idle && progress.checkpoints > checkpoints) { progress.condition.wait() }
        progress.condition.unlock()
    }

    /// What the last checkpoint reported: the log's frames, and how many of them are in the database
    /// (-1 each before the first checkpoint, or when it found no log). For tests.
    var lastReport: (logFrames: Int32, checkpointedFrames: Int32) { report.withLock { $0 } }

    /// Stops after the current pause (the thread then closes its connection).
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        commits.wakeAll()
    }
}
