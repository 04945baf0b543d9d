import Testing
import VFIOCore

/// This machine's own /sys (a virtual machine's tree): read only.
struct LocalHostScanTests {
    @Test func scansThisMachine() throws {
        let kernel = LinuxKernel()
        #expect(kernel.backend == "linux")
        let scan = try kernel.scan()
        let entries = try SysfsFiles.listDirectory("/sys/bus/pci/devices")
        #expect(scan.devices.count == entries.count)
        #expect(scan.host.kernelRelease?.isEmpty == false)
        #expect(scan.host.bootID?.count == 36)
        #expect(scan.devices.allSatisfy { $0.sysfsPath.hasPrefix("/sys/devices/") })
    }
}
