import Synchronization
import VFIOCore

/// Directory listings reused while one `stat(2)` shows the directory at the same ``FileVersion``: for the
/// directories of the tree that binds never change (`sys/kernel/iommu_groups/<N>/devices`), read at every
/// group check. Adding, removing or renaming an entry — from any process — gives the directory new times,
/// and a listing is kept only when the version it was read at had settled, so no change is ever hidden.
final class DirectoryListingCache: Sendable {
    /// How long a directory must have stood unchanged before its listing is reused.
    let settleSeconds: Int
    /// How many times a directory was really listed (tests check the cache was used).
    var listings: Int { listingCount.withLock { $0 } }
    private let listingCount = Mutex(0)
    private let entries = Mutex<[String: (version: FileVersion, names: [String])]>([:])

    /// A cache reusing listings of directories unchanged for `settleSeconds` (tests use 0).
    init(settleSeconds: Int = FileVersion.settleSeconds) {
        self.settleSeconds = settleSeconds
    }

    /// The names in `path`, as ``SysfsFiles/listDirectory(_:)`` gives them; `nil` when it cannot be
    /// examined or listed.
    func names(_ path: String) -> [String]? {
        guard let version = FileVersion.of(path) else { return nil }
        if let cached = entries.withLock({ $0[path] }), cached.version == version { return cached.names }
        let readAt = FileVersion.now()
        listingCount.withLock { $0 += 1 }
        guard let names = try? SysfsFiles.listDirectory(path) else { return nil }
        // Listed after the stat: a change in between gives the directory a new version, so the next
        // stat misses this entry rather than reusing it.
        if version.isSettled(at: readAt, seconds: settleSeconds) {
            entries.withLock { $0[path] = (version, names) }
        }
        return names
    }
}
