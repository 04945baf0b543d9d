#if canImport(Glibc)
import Glibc
#endif

extension SysfsFiles {
    /// Writes `bytes` to an existing sysfs attribute with one `write(2)`: `open(O_WRONLY | O_TRUNC |
    /// O_CLOEXEC)`, `write`, `close`, `EINTR` retried.
    ///
    /// Never creates a file (a missing attribute is `ENOENT`, as on the real sysfs). `O_TRUNC` is what
    /// `echo x > /sys/…` does: sysfs ignores it, and on a fake tree the file then holds exactly `bytes`.
    /// A sysfs store consumes the whole buffer or fails, so a short write is reported as `EIO`.
    ///
    /// Blocks as long as the kernel's store handler does: an `unbind` of a device that userspace holds
    /// never returns until the opener lets go. Call it from a thread you can afford to lose.
    /// Every failure throws ``KernelError`` with call `write`, the path and `errno`.
    public static func writeAttribute(_ path: String, _ bytes: [UInt8]) throws(KernelError) {
        let fd = retryingEINTR { open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) }
        guard fd >= 0 else { throw KernelError(call: "write", path: path, errno: errno) }
        defer { _ = close(fd) }
        // write(2) of the whole buffer at once: a sysfs store handler sees exactly one call with these bytes.
        let written = bytes.withUnsafeBytes { raw in retryingEINTR { write(fd, raw.baseAddress, raw.count) } }
        if written < 0 { throw KernelError(call: "write", path: path, errno: errno) }
        if written != bytes.count { throw KernelError(call: "write", path: path, errno: EIO) }
    }

    /// Whether `name` can be a driver name in a sysfs path: not empty, at most 64 bytes, no `/`, no
    /// whitespace or control characters, not `.` or `..`. Driver names reach paths
    /// (`sys/bus/pci/drivers/<name>/unbind`), so anything else is refused before a path is built.
    public static func isPlainDriverName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64, name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") }
    }
}
