import Glibc
import Synchronization

/// Tells, without waiting and without a system call, whether anyone committed to the database since a
/// given moment: a cache checked against it is still what the database would answer.
///
/// It maps the database's WAL index (the `-shm` file every connection in WAL mode shares) read-only and
/// reads its header, which SQLite rewrites on every commit, by any connection of any process (this one's
/// writer, `vfiod token revoke` beside it): the header holds a counter incremented by each transaction,
/// the last frame and the frames' running checksum. Two equal headers mean no commit in between. A header
/// being rewritten (its two copies differ) or a database without a WAL index answers nil: unknown.
///
/// The process must keep a connection to the database open while the probe is used (vfiod's writer
/// does): the WAL index is only rebuilt, under a new file, when no connection is left.
public final class DataVersionProbe: Sendable {
    /// The WAL index header's version: two values are equal only when nobody committed in between.
    public struct Version: Sendable, Equatable {
        let words: [UInt64]
    }

    /// The mapped WAL index, as an address (nil: none).
    private let base: UInt?
    private static let headerBytes = 48
    private static let mappedBytes = 2 * headerBytes

    /// Maps the WAL index of the database file at `path` (nil answers from then on when it has none).
    public init(path: String) {
        let fd = open(path + "-shm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { base = nil; return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) >= Self.mappedBytes else { base = nil; return }
        // A read-only shared mapping of the first bytes of the WAL index: SQLite never shrinks the file while
        // a connection (this process's) has it open, so the mapping stays backed for the process's life.
        let mapped = mmap(nil, Self.mappedBytes, PROT_READ, MAP_SHARED, fd, 0)
        guard let mapped, mapped != MAP_FAILED else { base = nil; return }
        base = UInt(bitPattern: mapped)
    }

    deinit {
        // The mapping made in init, of mappedBytes bytes; nothing reads it any more.
        if let base { munmap(UnsafeMutableRawPointer(bitPattern: base), Self.mappedBytes) }
    }

    /// The version now; nil when it cannot be told (no WAL index, or a commit being written right now).
    public func current() -> Version? {
        guard let base, let pointer = UnsafeRawPointer(bitPattern: base) else { return nil }
        // SQLite's WAL index format (sqlite.org/walformat.html): two copies of the 48-byte header at
        // offsets 0 and 48, the second written first on a commit. Reading the first, a fence, then the
        // second, as SQLite's readers do: equal copies are one consistent header.
        let first = (0..<6).map { pointer.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let second = (0..<6).map { pointer.loadUnaligned(fromByteOffset: Self.headerBytes + $0 * 8, as: UInt64.self) }
        guard first == second, first.contains(where: { $0 != 0 }) else { return nil }
        return Version(words: first)
    }
}
