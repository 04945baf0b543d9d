/// The real Linux kernel, reached through sysfs and device nodes beneath ``HostPaths`` (`/` in production).
///
/// A class because the write side (driver_override, unbind, drivers_probe, ioctls) will hold state here.
public final class LinuxKernel: HostKernel {
    /// `linux`.
    public let backend = "linux"
    /// Where `sys/`, `dev/`, `proc/` are.
    public let paths: HostPaths
    private let scanner: SysfsScanner

    /// Creates the kernel for the tree beneath `paths` (the real host by default).
    public init(paths: HostPaths = HostPaths()) {
        self.paths = paths
        self.scanner = SysfsScanner(paths: paths)
    }

    /// Reads the whole PCI tree with ``SysfsScanner``. Blocking: call it off the cooperative pool.
    public func scan() throws -> HostScan {
        try scanner.scan()
    }
}
