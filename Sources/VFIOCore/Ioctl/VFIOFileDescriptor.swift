#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor on a VFIO or iommufd node, owned: it is closed exactly once, when the owner is
/// consumed by `close()` or goes out of scope. Non-copyable, so no second owner can close it again.
///
/// Every call here is a blocking syscall: run it on a dedicated thread, never on Swift's cooperative pool
/// (an unbind elsewhere can make a VFIO ioctl wait).
public struct VFIOFileDescriptor: ~Copyable {
    /// The kernel's fd number, valid while this owner lives.
    public let rawValue: Int32
    /// The path it was opened from, for errors.
    public let path: String

    /// Takes ownership of `rawValue`, an fd the kernel just returned (e.g. from `VFIO_GROUP_GET_DEVICE_FD`).
    init(adopting rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    /// Opens `path` with `O_RDWR | O_CLOEXEC` (VFIO fds must never leak into a forked child: a child that
    /// inherits them blocks the unbind its parent waits on). `EINTR` is retried.
    public static func open(_ path: String) throws(VFIOError) -> VFIOFileDescriptor {
        let fd = retryingEINTR { Glibc.open(path, O_RDWR | O_CLOEXEC) }
        guard fd >= 0 else { throw VFIOError(operation: "open", errno: VFIOErrno(rawValue: errno), path: path) }
        return VFIOFileDescriptor(adopting: fd, path: path)
    }

    /// Closes the fd now. On Linux `close` releases the fd even when it reports an error (`EINTR`
    /// included), so it is never retried and its result is not surfaced.
    public consuming func close() {}

    deinit { _ = Glibc.close(rawValue) }

    /// `ioctl(fd, request)` with no argument; returns the kernel's non-negative result.
    ///
    /// Assumes `request` takes no argument (`_IO` with nothing to read or write).
    func ioctl(_ name: String, _ request: UInt) throws(VFIOError) -> Int32 {
        let fd = rawValue
        let result = retryingEINTR { Glibc.ioctl(fd, request) }
        return try check(result, name)
    }

    /// `ioctl(fd, request, value)` with an integer passed by value (`VFIO_CHECK_EXTENSION`, `VFIO_SET_IOMMU`).
    func ioctl(_ name: String, _ request: UInt, value: Int32) throws(VFIOError) -> Int32 {
        let fd = rawValue
        let result = retryingEINTR { Glibc.ioctl(fd, request, value) }
        return try check(result, name)
    }

    /// `ioctl(fd, request, buffer)`: the kernel reads and/or writes a variable-length argument struct laid
    /// out in `buffer` (header then flexible array, or a NUL-terminated string).
    ///
    /// Assumes `buffer` is at least as large as the struct's `argsz` says; the kernel copies in and out
    /// during the call and keeps no reference to the memory after returning.
    func ioctl(_ name: String, _ request: UInt, buffer: inout [UInt8]) throws(VFIOError) -> Int32 {
        let fd = rawValue
        let result = buffer.withUnsafeMutableBytes { bytes in
            retryingEINTR { Glibc.ioctl(fd, request, bytes.baseAddress!) }
        }
        return try check(result, name)
    }

    /// `ioctl` with a fixed-size argument struct `value`, which the kernel may update in place.
    func ioctl<Argument>(_ name: String, _ request: UInt, argument value: inout Argument) throws(VFIOError) -> Int32 {
        let fd = rawValue
        // The C struct is a plain value type imported from the header: its bytes are the kernel's layout.
        let result = withUnsafeMutableBytes(of: &value) { bytes in
            retryingEINTR { Glibc.ioctl(fd, request, bytes.baseAddress!) }
        }
        return try check(result, name)
    }

    /// Turns a C result into a value or a `VFIOError` naming the ioctl.
    private func check(_ result: Int32, _ name: String) throws(VFIOError) -> Int32 {
        guard result >= 0 else { throw VFIOError(operation: name, errno: VFIOErrno(rawValue: errno), path: path) }
        return result
    }
}
