#if canImport(Glibc)
import Glibc
#endif

/// What reading a device's driver state asks of its sysfs directory, by entry name.
protocol SysfsDirectoryReads {
    /// The directory's path.
    var path: String { get }
    /// The target text of the link `name`, or `nil`.
    func readLink(_ name: String) -> String?
    /// Whether `name` exists, following links (a dangling link does not).
    func exists(_ name: String) -> Bool
    /// Attribute `name` (one read of at most `limit` bytes), or `nil`.
    func readAttribute(_ name: String, limit: Int) -> [UInt8]?
    /// The names in subdirectory `name`, or `nil`.
    func list(_ name: String) -> [String]?
}

/// The reads by full path (``SysfsFiles``): what a full scan uses.
struct SysfsPathReads: SysfsDirectoryReads {
    let path: String

    func readLink(_ name: String) -> String? { try? SysfsFiles.readLink(path + "/" + name) }
    func exists(_ name: String) -> Bool { SysfsFiles.exists(path + "/" + name) }
    func readAttribute(_ name: String, limit: Int) -> [UInt8]? { try? SysfsFiles.readAttribute(path + "/" + name, limit: limit) }
    func list(_ name: String) -> [String]? { try? SysfsFiles.listDirectory(path + "/" + name) }
}

/// A sysfs directory held open while a re-read asks it several things: each entry is looked up from the
/// directory (`readlinkat`, `fstatat`, `openat`) instead of walking its whole path from `/` again. The
/// same syscalls and answers as ``SysfsPathReads``, the path walked once. Closed when released.
final class OpenSysfsDirectory: SysfsDirectoryReads {
    let path: String
    /// The names the directory held when opened.
    let names: [String]
    private let stream: OpaquePointer

    /// Opens and lists `path`; `nil` when it cannot be opened or listed (as `opendir` would fail).
    init?(_ path: String) {
        let fd = retryingEINTR { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        // fdopendir(3) takes the descriptor over: closedir closes it.
        guard let stream = fdopendir(fd) else { _ = close(fd); return nil }
        self.path = path
        self.stream = stream
        self.names = SysfsFiles.entryNames(of: stream)
    }

    deinit { closedir(stream) }

    /// The directory's descriptor (owned by the stream), the base of every lookup below.
    private var fd: Int32 { dirfd(stream) }

    func readLink(_ name: String) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX)) { buffer in
            // readlinkat(2) does not NUL-terminate: its return value is the length.
            let length = readlinkat(fd, name, buffer.baseAddress!, buffer.count)
            guard length >= 0 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }

    func exists(_ name: String) -> Bool {
        var info = stat()
        // Flags 0: the link is followed, as stat(2) does.
        return fstatat(fd, name, &info, 0) == 0
    }

    func readAttribute(_ name: String, limit: Int) -> [UInt8]? {
        let file = retryingEINTR { openat(fd, name, O_RDONLY | O_CLOEXEC) }
        guard file >= 0 else { return nil }
        defer { _ = close(file) }
        return try? SysfsFiles.readAttribute(open: file, limit: limit, path: path + "/" + name)
    }

    func list(_ name: String) -> [String]? {
        let directory = retryingEINTR { openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard directory >= 0 else { return nil }
        // fdopendir(3) takes the descriptor over: closedir closes it.
        guard let stream = fdopendir(directory) else { _ = close(directory); return nil }
        defer { closedir(stream) }
        return SysfsFiles.entryNames(of: stream)
    }
}
