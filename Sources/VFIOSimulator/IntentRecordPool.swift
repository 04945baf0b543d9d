#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VFIOCore

/// Record files a ``PendingChange`` reuses, kept open and locked in `<root>/.vfiod-simulator/spare/`, so
/// that recording a change is one `pwrite(2)` and one `link(2)` into `pending/`, and finishing it one
/// `unlink(2)`, instead of creating, locking, writing, renaming, unlinking and closing a new file each
/// time (the new inode and its page were most of a record's cost; a `rename(2)` costs more than a
/// `link(2)` or `unlink(2)` on tmpfs).
///
/// A spare is locked (`flock`) for as long as this process has it open, as a live record is: a
/// process opening the tree removes only the spares nobody holds (``removeUnheld(in:)``), those a dead
/// process left. Names are `<pid>.<n>`, `n` counted across every kernel of the process.
final class IntentRecordPool: Sendable {
    /// `<root>/.vfiod-simulator/spare`.
    let directory: String
    private let free = Mutex<[IntentRecordFile]>([])
    /// Numbers the spares of every kernel in this process, so no two share a name.
    private static let serial = Atomic<Int>(0)

    init(directory: String) {
        self.directory = directory
    }

    deinit {
        for file in free.withLock({ $0 }) { close(file.fd) }
    }

    /// A spare, from the pool or new. Throws ``KernelError``.
    func take() throws(KernelError) -> IntentRecordFile {
        if let file = free.withLock({ $0.popLast() }) { return file }
        return try create()
    }

    /// Gives back a spare that is again at its own path.
    func put(_ file: IntentRecordFile) {
        free.withLock { $0.append(file) }
    }

    /// A new spare file, locked.
    private func create() throws(KernelError) -> IntentRecordFile {
        let path = directory + "/\(getpid()).\(Self.serial.add(1, ordering: .relaxed).newValue)"
        var fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            let code = Self.makeDirectory(directory)
            guard code == 0 else { throw KernelError(call: "mkdir", path: directory, errno: code) }
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw KernelError(call: "open", path: path, errno: errno) }
        // flock(2) on our own new file: held for as long as this process keeps the file open.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            throw KernelError(call: "flock", path: path, errno: code)
        }
        return IntentRecordFile(fd: fd, path: path, size: 0)
    }

    /// Makes `directory` (`.vfiod-simulator/spare` or `/pending`) and its parent when missing: 0, or the
    /// `errno` of the directory's `mkdir(2)`.
    static func makeDirectory(_ directory: String) -> Int32 {
        _ = mkdir(String(directory[..<directory.lastIndex(of: "/")!]), 0o755)
        return mkdir(directory, 0o755) == 0 || errno == EEXIST ? 0 : errno
    }

    /// Removes the spares in `directory` that no live process holds (a dead process's).
    static func removeUnheld(in directory: String) {
        for name in (try? SysfsFiles.listDirectory(directory)) ?? [] {
            let path = directory + "/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // flock(2) without waiting: EWOULDBLOCK means a live process holds this spare.
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(fd)
        }
    }
}

/// A spare intent record file: open, locked, and how many bytes it holds now.
struct IntentRecordFile: Sendable {
    let fd: Int32
    let path: String
    var size: Int
}
