import CSQLite
import Foundation

/// When each audit row was committed, seen from outside vfiod: a thread of the bench reads the audit head
/// from vfiod's database (read-only, its own connection) every millisecond and keeps each poll's start
/// time and the head it saw.
///
/// A poll that started at `t` and did not see row `seq` proves the row was committed after `t` (its read
/// transaction began after `t`). The commit time taken for `seq` is the start of the last poll that did
/// not see it: never later than the real commit, so a delay measured from it is never understated; it
/// is overstated by less than one poll interval plus one poll's time.
///
/// `bench/run` gives it vfiod's database for the stream phases. A connection from another process is safe:
/// vfiod reads SQLite's own mapping of the WAL index and never drops SQLite's locks on it.
final class CommitClock: @unchecked Sendable {
    private let lock = NSLock()
    /// (start, head), in poll order; heads never decrease.
    private var polls: [(time: Double, head: Int64)] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    /// The read-only connection and its prepared query; only the polling thread uses them.
    private let handle: OpaquePointer
    private let statement: OpaquePointer

    /// Starts polling the database at `path`.
    init(path: String) throws {
        var opened: OpaquePointer?
        guard sqlite3_open_v2(path, &opened, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let opened else {
            throw BenchError.status(-1)
        }
        var prepared: OpaquePointer?
        guard sqlite3_prepare_v2(opened, "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1", -1, &prepared, nil) == SQLITE_OK,
              let prepared else { throw BenchError.status(-2) }
        handle = opened
        statement = prepared
        polls.reserveCapacity(1 << 16)
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopping }) {
                let start = Date().timeIntervalSince1970
                var head: Int64 = 0
                if sqlite3_step(statement) == SQLITE_ROW { head = sqlite3_column_int64(statement, 0) }
                sqlite3_reset(statement)
                lock.withLock { polls.append((start, head)) }
                usleep(1000)
            }
            sqlite3_finalize(statement)
            sqlite3_close(handle)
            done.signal()
        }
    }

    /// Stops polling.
    func stop() {
        lock.withLock { stopping = true }
        done.wait()
    }

    /// The commit time taken for row `seq` (seconds since 1970): the start of the last poll that did not
    /// see it; nil when no poll saw it yet or none missed it.
    func committed(_ seq: Int64) -> Double? {
        lock.withLock {
            // The first poll that saw the row; the one before it is the last that did not.
            var low = 0, high = polls.count
            while low < high {
                let middle = (low + high) / 2
                if polls[middle].head >= seq { high = middle } else { low = middle + 1 }
            }
            guard low > 0, low < polls.count else { return nil }
            return polls[low - 1].time
        }
    }
}
