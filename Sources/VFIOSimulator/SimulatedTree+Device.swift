#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// One device of the tree: where its bus entry leads, its `driver_override`, and the facts a change reads
/// of it through its directory as the caller resolved it once (``unverifiedDirectory(of:)``) rather than
/// through `sys/bus/pci/devices/<address>` each time: the same files (the bus entry leads there), one
/// link fewer for the kernel to walk per read, and the entry's own link read once per change instead of
/// once per fact.
extension SimulatedTree {
    /// The device's resolved directory (`<root>/sys/devices/…/<address>`); `nil` when it has no bus entry
    /// or the entry leads outside the root.
    func directory(of address: PCIAddress) -> String? {
        guard let resolved = unverifiedDirectory(of: address), SysfsFiles.isDirectory(resolved) else { return nil }
        return resolved
    }

    /// Where the device's bus entry leads (the entry itself when it is no link), without checking that a
    /// directory is there; `nil` when it leads outside the root.
    func unverifiedDirectory(of address: PCIAddress) -> String? {
        let entry = "sys/bus/pci/devices/" + address.description
        let resolved: String
        if let target = readLink(relative: entry) {
            resolved = resolve(busEntryLink: target)
        } else {
            resolved = rootPrefix + entry
        }
        return resolved.hasPrefix(rootPrefix) ? resolved : nil
    }

    /// `relative` (to the root) as the `*at` calls take it with ``rootDirectory``'s fd: itself, or the
    /// absolute path when the root could not be opened.
    func at(_ relative: String) -> String {
        rootDirectory.fd == AT_FDCWD ? rootPrefix + relative : relative
    }

    /// The text of the link `relative` (`readlinkat(2)`); `nil` when it is no link or cannot be read.
    func readLink(relative: String) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX)) { buffer in
            // readlinkat(2) does not NUL-terminate: its return value is the length.
            let length = readlinkat(rootDirectory.fd, at(relative), buffer.baseAddress!, buffer.count)
            guard length >= 0 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }

    /// Whether `relative` exists, following links (`fstatat(2)`).
    func exists(relative: String) -> Bool {
        var info = stat()
        return fstatat(rootDirectory.fd, at(relative), &info, 0) == 0
    }

    /// Whether `relative` is a directory, following links.
    func isDirectory(relative: String) -> Bool {
        var info = stat()
        return fstatat(rootDirectory.fd, at(relative), &info, 0) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes the device's `driver_override` as the kernel shows it: `<name>\n`, or `(null)\n` when
    /// cleared. False when there is no such device (as ``directory(of:)`` is `nil`): the file's open
    /// finds that out, without a `stat` of the directory first.
    func writeOverride(_ driver: String?, of address: PCIAddress) throws(KernelError) -> Bool {
        guard let directory = unverifiedDirectory(of: address) else { return false }
        return try writeOverride(driver, inDirectory: directory)
    }

    /// ``writeOverride(_:of:)`` into `directory`, where the device's bus entry leads.
    func writeOverride(_ driver: String?, inDirectory directory: String) throws(KernelError) -> Bool {
        let path = directory + "/driver_override"
        // Cleared: emptied at the open (O_TRUNC; empty and "(null)" both read as no override). A name:
        // see below.
        let truncate = driver == nil ? O_TRUNC : 0
        let fd = openat(rootDirectory.fd, at(relative(directory) + "/driver_override"), O_WRONLY | O_CREAT | O_CLOEXEC | truncate, 0o644)
        if fd < 0 {
            // No directory there (missing, or not a directory): no such device.
            if errno == ENOENT || errno == ENOTDIR { return false }
            throw KernelError(call: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        let bytes = Array(((driver ?? "(null)") + "\n").utf8)
        // Emptied first only when the new text is shorter (a reader then sees no override, as with
        // O_TRUNC); a text as long or longer simply replaces the old one, with no empty moment and
        // without tmpfs freeing the file's page and allocating a new one.
        var info = stat()
        if driver != nil, fstat(fd, &info) != 0 || Int(info.st_size) > bytes.count {
            guard ftruncate(fd, 0) == 0 else { throw KernelError(call: "ftruncate", path: path, errno: errno) }
        }
        try TreeWriter.write(bytes, to: fd, path: path)
        return true
    }

    /// ``SysfsFiles/resolve(link:in:)`` of a bus entry's link target in `sys/bus/pci/devices`. The usual
    /// target (`../../../devices/pci0000:00/0000:00:02.0`: leading `..` components, then plain ones) is
    /// folded on the text's bytes, without splitting both paths into components; anything else goes the
    /// general way. Either way the result is the same path.
    func resolve(busEntryLink target: String) -> String {
        guard let directory = normalizedBusDirectory, !target.hasPrefix("/") else {
            return SysfsFiles.resolve(link: target, in: paths.sys("bus/pci/devices"))
        }
        let bytes = target.utf8
        var rest = bytes.startIndex
        var end = directory.utf8.endIndex
        while bytes[rest...].starts(with: "../".utf8) {
            guard let slash = directory.utf8[..<end].lastIndex(of: UInt8(ascii: "/")), slash != directory.utf8.startIndex else {
                return SysfsFiles.resolve(link: target, in: directory)
            }
            end = slash
            rest = bytes.index(rest, offsetBy: 3)
        }
        guard Self.isPlainRelative(target[rest...]) else { return SysfsFiles.resolve(link: target, in: directory) }
        var resolved = String(directory[..<end])
        resolved += "/"
        resolved += target[rest...]
        return resolved
    }

    /// The last non-empty component of `path`, as `path.split(separator: "/").last` gives it.
    static func lastComponent(_ path: String) -> Substring? {
        let bytes = path.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        guard end > bytes.startIndex else { return nil }
        let start = bytes[..<end].lastIndex(of: UInt8(ascii: "/")).map { bytes.index(after: $0) } ?? bytes.startIndex
        return path[start..<end]
    }

    /// Whether `path` is components joined by single slashes, none empty, `.` or `..`.
    static func isPlainRelative(_ path: Substring) -> Bool {
        var length = 0
        var dots = 0
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (dots == length && length <= 2) { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length > 0 && !(dots == length && length <= 2)
    }

    /// ``SysfsQueries/driver(of:)`` of the device in `directory`: the `driver` link's last component; `nil`
    /// when unbound or dangling.
    func driver(inDirectory directory: String) -> String? {
        let link = relative(directory) + "/driver"
        guard let target = readLink(relative: link), exists(relative: link) else { return nil }
        return Self.lastComponent(target).map(String.init)
    }

    /// ``SysfsQueries/iommuGroup(of:)`` of the device in `directory`.
    func iommuGroup(inDirectory directory: String) -> Int? {
        guard let target = readLink(relative: relative(directory) + "/iommu_group") else { return nil }
        return Self.lastComponent(target).flatMap { Int($0) }
    }

    /// ``SysfsQueries/driverOverride(of:)`` of the device in `directory`.
    func driverOverride(inDirectory directory: String) -> String? {
        guard let text = readString(relative: relative(directory) + "/driver_override"),
              !text.isEmpty, text != "(null)" else { return nil }
        return text
    }

    /// ``SysfsFiles/readString(_:)`` of `relative`: one read of up to 4 KiB, without its trailing newlines,
    /// spaces and NULs; `nil` when it cannot be opened or read.
    func readString(relative: String) -> String? {
        let fd = openat(rootDirectory.fd, at(relative), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            // read(2) into our 4 KiB buffer, once, as SysfsFiles.readAttribute does.
            var count = retryingInterruptedCall { read(fd, buffer.baseAddress!, buffer.count) }
            guard count >= 0 else { return nil }
            while count > 0, [0x0a, 0x20, 0].contains(buffer[count - 1]) { count -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// The device's group as the lock of a change needs it: through `entry` (where its bus entry leads)
    /// when there is one, else through the bus entry itself.
    func iommuGroup(of address: PCIAddress, entry: String?) -> Int? {
        entry.map(iommuGroup(inDirectory:)) ?? queries.iommuGroup(of: address)
    }

    /// The names in `relative` as ``SysfsFiles/listDirectory(_:)`` gives them, with those `readdir(3)` says
    /// are directories (`DT_DIR`; a file system that does not say leaves the set short, never wrong).
    /// Throws ``KernelError``.
    func listDirectoryWithTypes(relative: String) throws(KernelError) -> (names: [String], directories: Set<String>) {
        // opendir(3) of the absolute path: fdopendir(3) of an openat(2) fd would add two fcntl(2) calls.
        let path = rootPrefix + relative
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
