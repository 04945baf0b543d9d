internal import CSQLite
import Synchronization

/// Tells, without waiting and without a system call, whether anyone committed to the database since a
/// given moment: a cache checked against it is still what the database would answer.
///
/// It reads the database's WAL index (the `-shm` file every connection in WAL mode shares) through SQLite's
/// own mapping of it, on a read-only connection the probe keeps open: SQLite rewrites the index's header on
/// every commit, by any connection of any process (this one's writer, `vfiod token revoke` beside it), and
/// the header holds a counter incremented by each transaction, the last frame and the frames' running
/// checksum. Two equal headers mean no commit in between. A header being rewritten (its two copies differ)
/// or a database without a WAL index answers nil: unknown.
///
/// The probe never opens the `-shm` file itself: closing a descriptor of it would drop every POSIX lock the
/// process holds on the file, SQLite's included, and another process opening the database would then take
/// the WAL index for abandoned and rebuild it under vfiod's feet (a bus error, or worse).
public final class DataVersionProbe: Sendable {
    /// The WAL index header's version: two values are equal only when nobody committed in between.
    public struct Version: Sendable, Equatable {
        /// The header's six 64-bit words, held inline (no array: the probe runs on every cached read).
        let w0, w1, w2, w3, w4, w5: UInt64

        /// The header at `pointer` (48 bytes).
        init(at pointer: UnsafeRawPointer) {
            func word(_ index: Int) -> UInt64 { pointer.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
            (w0, w1, w2, w3, w4, w5) = (word(0), word(1), word(2), word(3), word(4), word(5))
        }
    }

    /// The probe's own read-only connection, which keeps SQLite's mapping of the WAL index alive; only
    /// `deinit` touches it after `init`.
    nonisolated(unsafe) private let connection: Connection?
    /// The mapped WAL index, as an address (nil: none).
    private let base: UInt?
    private static let headerBytes = 48

    /// Maps the WAL index of the database file at `path` (nil answers from then on when it has none).
    public init(path: String) {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            (connection, base) = (nil, nil)
            return
        }
        let connection = Connection(handle: handle, path: path)
        self.connection = connection
        // One read opens the connection's WAL index (a database not in WAL mode has none: the map fails).
        guard (try? connection.execute("SELECT count(*) FROM sqlite_master")) != nil,
              let region = csqlite_wal_index(handle) else { base = nil; return }
        base = UInt(bitPattern: region)
    }

    /// The version now; nil when it cannot be told (no WAL index, or a commit being written right now).
    public func current() -> Version? {
        guard let base, let pointer = UnsafeRawPointer(bitPattern: base) else { return nil }
        // SQLite's WAL index format (sqlite.org/walformat.html): two copies of the 48-byte header at
        // offsets 0 and 48, the second written first on a commit. Reading the first, a fence, then the
        // second, as SQLite's readers do: equal copies are one consistent header. The region is SQLite's
        // mapping of at least 32 KiB, valid while `connection` is open.
        let first = Version(at: pointer)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let second = Version(at: pointer + Self.headerBytes)
        guard first == second, first.w0 | first.w1 | first.w2 | first.w3 | first.w4 | first.w5 != 0 else { return nil }
        return first
    }
}
