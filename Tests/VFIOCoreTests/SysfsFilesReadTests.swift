import Foundation
import Testing
import VFIOCore

/// The one-read attribute reader against real files: real sysfs and `/proc/sys` (whatever the test host
/// has) and regular files of the sizes a fake tree holds.
struct SysfsFilesReadTests {
    @Test func readsWholeRegularFilesOfEverySmallSize() throws {
        let directory = NSTemporaryDirectory() + "vfiod-attr-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for size in [0, 1, 7, 4095, 4096] {
            let path = directory + "/attr\(size)"
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try SysfsFiles.readAttribute(path) == bytes, "size \(size)")
            #expect(try SysfsFiles.readAttribute(path) == SysfsFiles.readBytes(path))
        }
        try Data("vfio-pci\n".utf8).write(to: URL(fileURLWithPath: directory + "/driver_override"))
        #expect(try SysfsFiles.readString(directory + "/driver_override") == "vfio-pci")
        #expect(try SysfsFiles.readAttribute(directory + "/attr4096", limit: 64).count == 64)
        #expect(throws: KernelError.self) { try SysfsFiles.readAttribute(directory + "/missing") }
    }

    @Test func readsTheSameAsTheReadLoopOnThisHostsKernelFiles() throws {
        // Present on any Linux host; the comparison is what matters, not the values.
        var paths = ["/proc/sys/kernel/osrelease", "/proc/sys/kernel/random/boot_id", "/sys/kernel/mm/transparent_hugepage/enabled"]
        if let first = (try? SysfsFiles.listDirectory("/sys/bus/pci/devices"))?.sorted().first {
            paths += ["vendor", "class", "driver_override", "numa_node", "reset_method"].map { "/sys/bus/pci/devices/\(first)/\($0)" }
        }
        for path in paths where FileManager.default.isReadableFile(atPath: path) {
            let once = try SysfsFiles.readAttribute(path)
            #expect(!once.isEmpty, "\(path)")
            #expect(once == (try SysfsFiles.readBytes(path)), "\(path)")
        }
    }
}
