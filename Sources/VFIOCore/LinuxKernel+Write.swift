#if canImport(Glibc)
import Glibc
#endif

/// The sysfs writes a bind and a restore are made of, one kernel operation each (docs/ARCHITECTURE.md,
/// "Kernel writes").
///
/// Each is one `write(2)` of exact bytes through ``SysfsFiles/writeAttribute(_:_:)``; failures are
/// ``KernelError`` with call `write`, the attribute's path and `errno` (`ENOENT`: no such device or
/// driver; `ENODEV`: not bound to that driver, or no match; `EBUSY`: already bound). Never `new_id`:
/// it would capture every device with the same ids.
///
/// These calls block for as long as the kernel does. An `unbind` from vfio-pci of a device that a process
/// holds does not return until the opener releases it — possibly never. Callers run them on dedicated
/// threads they can afford to lose, never on Swift's cooperative pool.
extension LinuxKernel {
    /// Writes `driver` (exact bytes, no newline) to `sys/bus/pci/devices/<address>/driver_override`, or a
    /// single newline to clear it (the kernel then shows `(null)`). Does not change the binding.
    public func setDriverOverride(_ address: PCIAddress, to driver: String?) throws(KernelError) {
        let path = paths.pciDevice(address) + "/driver_override"
        guard let driver else { return try SysfsFiles.writeAttribute(path, [0x0a]) }
        try Self.requirePlainName(driver, path)
        try SysfsFiles.writeAttribute(path, Array(driver.utf8))
    }

    /// Writes the address to `sys/bus/pci/drivers/<driver>/unbind`. May block while userspace holds the
    /// device (vfio-pci relays the kernel's request to the opener meanwhile).
    public func unbind(_ address: PCIAddress, from driver: String) throws(KernelError) {
        let path = paths.sys("bus/pci/drivers/\(driver)/unbind")
        try Self.requirePlainName(driver, path)
        try SysfsFiles.writeAttribute(path, Array(address.description.utf8))
    }

    /// Writes the address to `sys/bus/pci/drivers_probe`: the kernel binds the `driver_override` driver
    /// when one is set (or nothing when it is not loaded), else the best matching driver, else none.
    public func probe(_ address: PCIAddress) throws(KernelError) {
        try SysfsFiles.writeAttribute(paths.sys("bus/pci/drivers_probe"), Array(address.description.utf8))
    }

    /// Writes the address to `sys/bus/pci/drivers/<driver>/bind`.
    public func bind(_ address: PCIAddress, to driver: String) throws(KernelError) {
        let path = paths.sys("bus/pci/drivers/\(driver)/bind")
        try Self.requirePlainName(driver, path)
        try SysfsFiles.writeAttribute(path, Array(address.description.utf8))
    }

    /// Refuses a driver name that could leave `sys/bus/pci/drivers/` with `EINVAL`, before any write.
    static func requirePlainName(_ driver: String, _ path: String) throws(KernelError) {
        guard SysfsFiles.isPlainDriverName(driver) else { throw KernelError(call: "write", path: path, errno: EINVAL) }
    }
}
