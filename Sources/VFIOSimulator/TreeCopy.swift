#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// Copies and removes directory trees with symbolic links kept as links (a sysfs tree is mostly links).
enum TreeCopy {
    /// Copies the contents of `source` into the existing directory `destination`. Throws ``KernelError``.
    static func copy(from source: String, to destination: String) throws {
        for name in try SysfsFiles.listDirectory(source) {
            let from = source + "/" + name
            let to = destination + "/" + name
            if SysfsFiles.isSymbolicLink(from) {
                let target = try SysfsFiles.readLink(from)
                guard symlink(target, to) == 0 else { throw KernelError(call: "symlink", path: to, errno: errno) }
            } else if SysfsFiles.isDirectory(from) {
                guard mkdir(to, 0o755) == 0 || errno == EEXIST else { throw KernelError(call: "mkdir", path: to, errno: errno) }
                try copy(from: from, to: to)
            } else {
                // Regular files only; sysfs attributes are small, but `config` can be 4 KiB.
                let bytes = (try? SysfsFiles.readBytes(from, limit: 1 << 20)) ?? []
                let fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw KernelError(call: "open", path: to, errno: errno) }
                defer { close(fd) }
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == bytes.count else { throw KernelError(call: "write", path: to, errno: errno) }
            }
        }
    }

    /// Removes `path` and everything below it, never following links out of it.
    static func remove(_ path: String) {
        if SysfsFiles.isSymbolicLink(path) { unlink(path); return }
        if let names = try? SysfsFiles.listDirectory(path) {
            for name in names { remove(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
