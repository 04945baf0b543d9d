#if canImport(Glibc)
import Glibc
#endif
import Testing
import VFIOCore

/// The C names of the errnos VFIO returns, and how a `VFIOError` prints.
struct VFIOErrnoTests {
    @Test func namesMatchTheCValues() {
        let expected: [(VFIOErrno, Int32, String)] = [
            (.busy, EBUSY, "EBUSY"), (.invalidArgument, EINVAL, "EINVAL"), (.notPermitted, EPERM, "EPERM"),
            (.notTTY, ENOTTY, "ENOTTY"), (.noSuchDevice, ENODEV, "ENODEV"), (.noSuchFileOrDirectory, ENOENT, "ENOENT"),
            (.permissionDenied, EACCES, "EACCES"), (.interrupted, EINTR, "EINTR"), (.noSpace, ENOSPC, "ENOSPC"),
            (.tryAgain, EAGAIN, "EAGAIN"), (.ioError, EIO, "EIO"), (.badFileDescriptor, EBADF, "EBADF"),
            (.exists, EEXIST, "EEXIST"), (.badAddress, EFAULT, "EFAULT"), (.noMemory, ENOMEM, "ENOMEM"),
            (.noSuchDeviceOrAddress, ENXIO, "ENXIO"), (.notSupported, EOPNOTSUPP, "EOPNOTSUPP"),
        ]
        for (value, raw, name) in expected {
            #expect(value.rawValue == raw)
            #expect(value.name == name)
            #expect(VFIOErrno(rawValue: raw) == value)
        }
    }

    @Test func unknownValuesKeepTheirNumber() {
        #expect(VFIOErrno(rawValue: 4095).name == "errno 4095")
    }

    @Test func errorDescriptionNamesCallPathAndErrno() {
        let error = VFIOError(operation: "VFIO_GROUP_GET_DEVICE_FD", errno: .busy, path: "/dev/vfio/12")
        #expect(error.description == "VFIO_GROUP_GET_DEVICE_FD(/dev/vfio/12): EBUSY (Device or resource busy)")
    }
}
