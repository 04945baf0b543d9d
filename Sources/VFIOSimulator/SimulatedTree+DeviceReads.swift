#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// The facts a change reads of one device, through its directory as the caller resolved it once
/// (``SimulatedTree/unverifiedDirectory(of:)``) rather than through `sys/bus/pci/devices/<address>` each
/// time: the same files (the bus entry leads there), one link fewer for the kernel to walk per read, and
/// the entry's own link read once per change instead of once per fact.
extension SimulatedTree {
    /// ``SysfsQueries/driver(of:)`` of the device in `directory`: the `driver` link's last component; `nil`
    /// when unbound or dangling.
    func driver(inDirectory directory: String) -> String? {
        let link = directory + "/driver"
        guard let target = try? SysfsFiles.readLink(link), SysfsFiles.exists(link) else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }

    /// ``SysfsQueries/iommuGroup(of:)`` of the device in `directory`.
    func iommuGroup(inDirectory directory: String) -> Int? {
        guard let target = try? SysfsFiles.readLink(directory + "/iommu_group") else { return nil }
        return target.split(separator: "/").last.flatMap { Int($0) }
    }

    /// ``SysfsQueries/driverOverride(of:)`` of the device in `directory`.
    func driverOverride(inDirectory directory: String) -> String? {
        guard let text = try? SysfsFiles.readString(directory + "/driver_override"),
              !text.isEmpty, text != "(null)" else { return nil }
        return text
    }

    /// The device's group as the lock of a change needs it: through `entry` (where its bus entry leads)
    /// when there is one, else through the bus entry itself.
    func iommuGroup(of address: PCIAddress, entry: String?) -> Int? {
        entry.map(iommuGroup(inDirectory:)) ?? queries.iommuGroup(of: address)
    }

    /// The names in `path` as ``SysfsFiles/listDirectory(_:)`` gives them, with those `readdir(3)` says are
    /// directories (`DT_DIR`; a file system that does not say leaves the set short, never wrong). Throws
    /// ``KernelError``.
    static func listDirectoryWithTypes(_ path: String) throws(KernelError) -> (names: [String], directories: Set<String>) {
        guard let dir = opendir(path) else { throw KernelError(call: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        var directories: Set<String> = []
        // readdir(3) returns entries owned by the DIR stream, valid until the next call: copy the name out.
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
            if entry.pointee.d_type == UInt8(DT_DIR) { directories.insert(name) }
        }
        return (names, directories)
    }
}
