#if canImport(Glibc)
import Glibc
#endif

/// Finds the processes holding given files by reading the `fd/*` links under a `proc` directory.
///
/// A link's target is the kernel's absolute path of the open file (`/dev/vfio/7`), whatever root the
/// reader uses, so callers match targets exactly and map them to the paths they report. A file whose node
/// was removed while open reads `<path> (deleted)` (``removedNodeTarget(_:)``): the kernel removes a VFIO
/// device cdev (`vfio_device_del`) as soon as an unbind starts, before it waits for the openers, so during
/// that wait every opener of the cdev shows this way, and callers following it list that text too.
/// Processes that
/// vanish while being read (`ENOENT`, `ESRCH`), and those whose `fd/` the caller may not read, are
/// skipped: the answer is a best effort at one moment, as `lsof`'s is.
public struct ProcessFDScanner: Sendable {
    /// The `proc` directory, without a trailing slash (`/proc`, or `<root>/proc` for a fake tree).
    public let procDirectory: String

    /// Creates a scanner of `procDirectory`.
    public init(procDirectory: String) {
        var trimmed = procDirectory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.procDirectory = trimmed
    }

    /// Every process with an fd whose link target is a key of `targets`, with the keys' values as its
    /// `paths` (sorted, each once), sorted by pid; `excluding` is not read at all (vfiod skips itself: it
    /// holds no VFIO fd between calls, and its own fd table is the largest to read). Blocking file I/O.
    public func openers(of targets: [String: String], excluding: Int32? = nil) -> [VFIOOpener] {
        guard !targets.isEmpty, let entries = try? SysfsFiles.listDirectory(procDirectory) else { return [] }
        var found: [VFIOOpener] = []
        for entry in entries {
            guard let pid = Int32(entry), pid > 0, pid != excluding else { continue }
            let directory = procDirectory + "/" + entry
            guard let fds = try? SysfsFiles.listDirectory(directory + "/fd") else { continue }
            var paths: Set<String> = []
            for fd in fds {
                guard let target = try? SysfsFiles.readLink(directory + "/fd/" + fd), let reported = targets[target] else { continue }
                paths.insert(reported)
            }
            guard !paths.isEmpty, let commandLine = Self.commandLine(of: directory) else { continue }
            found.append(VFIOOpener(pid: pid, commandLine: commandLine, paths: paths.sorted()))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// The link target of an fd open on `path` after `path` was removed: `<path> (deleted)`. Pure.
    public static func removedNodeTarget(_ path: String) -> String {
        path + " (deleted)"
    }

    /// `cmdline` with NULs as spaces, or `comm` when that is empty (a kernel thread, a zombie); `nil` when
    /// the process is gone.
    static func commandLine(of directory: String) -> String? {
        guard let raw = try? SysfsFiles.readBytes(directory + "/cmdline", limit: 64 << 10) else { return nil }
        var bytes = raw.map { $0 == 0 ? 0x20 : $0 }
        while bytes.last == 0x20 { bytes.removeLast() }
        if !bytes.isEmpty { return String(decoding: bytes, as: UTF8.self) }
        guard let comm = try? SysfsFiles.readBytes(directory + "/comm") else { return nil }
        return SysfsText.trimmed(comm)
    }
}
