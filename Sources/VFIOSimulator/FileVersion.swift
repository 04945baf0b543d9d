#if canImport(Glibc)
import Glibc
#endif

/// One version of a file or directory as `stat(2)` tells it apart from any other: device, inode, size,
/// and modification and status-change times to the nanosecond. A rename into place brings a new inode;
/// a write, or an entry added to or removed from a directory, new times (and usually a new size).
///
/// File times come from a clock that ticks coarsely (a jiffy; a second or more on some file systems),
/// so two changes within one tick can leave equal versions. What was read of a version may therefore be
/// reused only when the version had settled — stood unchanged for a few seconds — before it was read:
/// any later change then has later times.
struct FileVersion: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int
    var changedSeconds: Int
    var changedNanoseconds: Int

    /// How long a version must have stood unchanged before what was read of it is reused: longer than
    /// the coarsest file-time granularity of a local file system.
    static let settleSeconds = 3

    /// The version `stat(2)` (or `fstat(2)`) reported.
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
        changedSeconds = info.st_ctim.tv_sec
        changedNanoseconds = info.st_ctim.tv_nsec
    }

    /// The version of `path` now (following links); `nil` when it cannot be examined.
    static func of(_ path: String) -> FileVersion? {
        var info = stat()
        return stat(path, &info) == 0 ? FileVersion(info) : nil
    }

    /// The wall-clock second now (`CLOCK_REALTIME`, the clock file times are taken from). Take it before
    /// reading a version.
    static func now() -> Int {
        var now = timespec()
        // clock_gettime(2) fills our timespec.
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec
    }

    /// Whether this version had stood unchanged for `seconds` at wall-clock second `readAt`.
    func isSettled(at readAt: Int, seconds: Int = FileVersion.settleSeconds) -> Bool {
        readAt - max(modifiedSeconds, changedSeconds) >= seconds
    }
}
