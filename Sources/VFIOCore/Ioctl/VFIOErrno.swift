#if canImport(Glibc)
import Glibc
#endif

/// An `errno` value with the names VFIO and iommufd ioctls give it meaning under, in the style of
/// swift-system's `Errno`: `.busy` is `EBUSY`.
///
/// Unknown values are kept as they are; `name` then reads `errno <n>`.
public struct VFIOErrno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `errno` value.
    public let rawValue: Int32

    /// Wraps a C `errno` value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `EPERM`: the caller lacks the privilege (e.g. no `CAP_SYS_RAWIO` for some resets).
    public static let notPermitted = VFIOErrno(rawValue: EPERM)
    /// `ENOENT`: the node does not exist (`/dev/vfio/<N>` for an unknown group, no cdev).
    public static let noSuchFileOrDirectory = VFIOErrno(rawValue: ENOENT)
    /// `EINTR`: interrupted by a signal; retried in one place (`retryingEINTR`), never surfaced by it.
    public static let interrupted = VFIOErrno(rawValue: EINTR)
    /// `EIO`: the device or bus failed the operation.
    public static let ioError = VFIOErrno(rawValue: EIO)
    /// `ENXIO`: no such device or address.
    public static let noSuchDeviceOrAddress = VFIOErrno(rawValue: ENXIO)
    /// `EBADF`: an fd passed in an argument (a group fd, an iommufd) is not open.
    public static let badFileDescriptor = VFIOErrno(rawValue: EBADF)
    /// `EAGAIN`: try again (the resource is momentarily unavailable).
    public static let tryAgain = VFIOErrno(rawValue: EAGAIN)
    /// `ENOMEM`: the kernel could not allocate.
    public static let noMemory = VFIOErrno(rawValue: ENOMEM)
    /// `EACCES`: the node's permissions refuse the caller.
    public static let permissionDenied = VFIOErrno(rawValue: EACCES)
    /// `EFAULT`: an argument pointer was bad (a bug in the caller's struct).
    public static let badAddress = VFIOErrno(rawValue: EFAULT)
    /// `EBUSY`: already open elsewhere (a group has one opener), or contention during a reset.
    public static let busy = VFIOErrno(rawValue: EBUSY)
    /// `EEXIST`: already set (e.g. a container or iommufd already attached).
    public static let exists = VFIOErrno(rawValue: EEXIST)
    /// `ENODEV`: the device is gone, or the operation is unsupported for it (hot-reset info).
    public static let noSuchDevice = VFIOErrno(rawValue: ENODEV)
    /// `EINVAL`: a bad argument, or for hot reset: something in the scope is not owned or not resettable.
    public static let invalidArgument = VFIOErrno(rawValue: EINVAL)
    /// `ENOSPC`: the buffer is too small (hot-reset info reports the needed count).
    public static let noSpace = VFIOErrno(rawValue: ENOSPC)
    /// `ENOTTY`: the fd does not understand this ioctl; for hot reset on PCIe: the link did not come back.
    public static let notTTY = VFIOErrno(rawValue: ENOTTY)
    /// `EOPNOTSUPP`: the operation is not supported.
    public static let notSupported = VFIOErrno(rawValue: EOPNOTSUPP)

    /// Every named value, for `name`.
    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC", ENOTTY: "ENOTTY",
        EOPNOTSUPP: "EOPNOTSUPP",
    ]

    /// The C name (`EBUSY`), or `errno <n>` for a value without one here.
    public var name: String { Self.names[rawValue] ?? "errno \(rawValue)" }

    /// `EBUSY (Device or resource busy)`.
    public var description: String { "\(name) (\(String(cString: strerror(rawValue))))" }
}
