/// A failed VFIO or iommufd call: which call (`open` or the ioctl's kernel name), on which node, and the
/// `errno` it set.
public struct VFIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `open`, or the ioctl's name as `<linux/vfio.h>` spells it (`VFIO_GROUP_GET_STATUS`).
    public let operation: String
    /// The `errno`, with its C name.
    public let errno: VFIOErrno
    /// The path the fd was opened from (`/dev/vfio/12`).
    public let path: String

    /// Creates an error for `operation` on `path`.
    public init(operation: String, errno: VFIOErrno, path: String) {
        self.operation = operation
        self.errno = errno
        self.path = path
    }

    /// `VFIO_GROUP_GET_DEVICE_FD(/dev/vfio/12): EBUSY (Device or resource busy)`.
    public var description: String { "\(operation)(\(path)): \(errno)" }
}
