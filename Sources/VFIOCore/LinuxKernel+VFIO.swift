#if canImport(Glibc)
import Glibc
#endif

/// The VFIO half of the real kernel. STUB: to be replaced by the ioctl implementation.
extension LinuxKernel {
    /// See ``VFIOKernel/reset(_:method:groups:)``.
    public func reset(_ address: PCIAddress, method: ResetMethod, groups: [Int]) throws(VFIOError) -> ResetOutcome {
        throw VFIOError(operation: "VFIO_DEVICE_RESET", errno: .notTTY, path: paths.pciDevice(address))
    }
    /// See ``VFIOKernel/configVendorID(of:)``.
    public func configVendorID(of address: PCIAddress) -> UInt16? { nil }
    /// See ``VFIOKernel/holders(groups:cdevs:)``.
    public func holders(groups: [Int], cdevs: [String]) -> [VFIOHolder] { [] }
    /// See ``VFIOKernel/kernelLog(mentioning:after:)``.
    public func kernelLog(mentioning address: PCIAddress, after: UInt64?) -> [KernelLogRecord] { [] }
}
