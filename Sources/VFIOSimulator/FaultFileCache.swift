#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VFIOCore

/// The fault file as last parsed, reused while one `stat(2)` shows the same file unchanged, so the
/// simulator need not open, read and decode it at every unbind and probe.
///
/// Other processes (tests, `vfiod-scenarios`) rewrite the file at any time, by `rename(2)` or in place;
/// the cache must never hide such a change. The file is known by device, inode, size, and modification
/// and status-change times to the nanosecond: a rename brings a new inode, an in-place write a new size
/// or new times. File times come from a clock that ticks coarsely (a jiffy; a second or more on some
/// file systems), so two writes within one tick can leave equal times: a parse is reused only when the
/// file had not changed for ``settleSeconds`` when it was read, so any later write has later times.
final class FaultFileCache: Sendable {
    /// How long the file must have stood unchanged (by its modification and status-change times) before
    /// a parse of it is reused: longer than the coarsest file-time granularity of a local file system.
    let settleSeconds: Int
    /// How many times the file was opened and parsed (tests check the cache was used).
    var parses: Int { parseCount.withLock { $0 } }
    private let parseCount = Mutex(0)

    /// A cache reusing parses of files unchanged for `settleSeconds` (3 s; tests use 0).
    init(settleSeconds: Int = 3) {
        self.settleSeconds = settleSeconds
    }

    /// The identity of one version of a file, from `stat(2)`.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        static func == (left: Identity, right: Identity) -> Bool {
            left.device == right.device && left.inode == right.inode && left.size == right.size
                && left.modified.tv_sec == right.modified.tv_sec && left.modified.tv_nsec == right.modified.tv_nsec
                && left.changed.tv_sec == right.changed.tv_sec && left.changed.tv_nsec == right.changed.tv_nsec
        }
    }

    private struct Entry: @unchecked Sendable {
        // @unchecked: `timespec` is a plain C struct of integers.
        var identity: Identity
        var faults: SimulatorFaults
    }

    private let entry = Mutex<Entry?>(nil)

    /// The faults in `file`: empty when it does not exist (or cannot be examined), `nil` when it exists
    /// but cannot be read or parsed.
    func read(_ file: String) -> SimulatorFaults? {
        var info = stat()
        guard stat(file, &info) == 0 else { return SimulatorFaults() }
        let identity = Identity(info)
        if let cached = entry.withLock({ $0 }), cached.identity == identity { return cached.faults }
        return parse(file)
    }

    /// Opens, reads and parses `file`, remembering the parse when the file it read had settled.
    private func parse(_ file: String) -> SimulatorFaults? {
        var now = timespec()
        // clock_gettime(2) fills our timespec; CLOCK_REALTIME is the clock file times are taken from.
        clock_gettime(CLOCK_REALTIME, &now)
        parseCount.withLock { $0 += 1 }
        let fd = retryingInterruptedCall { open(file, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, let bytes = Self.readAll(fd, limit: 1 << 20),
              let faults = SimulatorFaults.decode(bytes) else { return nil }
        let identity = Identity(info)
        let newest = max(identity.modified.tv_sec, identity.changed.tv_sec)
        if now.tv_sec - newest >= settleSeconds {
            entry.withLock { $0 = Entry(identity: identity, faults: faults) }
        }
        return faults
    }

    /// Up to `limit` bytes from `fd`, to end of file; `nil` on a read error.
    private static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            // read(2) into the unfilled tail of our buffer.
            let got = bytes.withUnsafeMutableBytes { raw in
                retryingInterruptedCall { Glibc.read(fd, raw.baseAddress! + filled, limit - filled) }
            }
            if got < 0 { return nil }
            if got == 0 { break }
            filled += got
        }
        bytes.removeSubrange(filled...)
        return bytes
    }
}
