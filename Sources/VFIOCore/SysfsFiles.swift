#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the syscalls sysfs reading needs: `open`/`read`/`close`, `pread`, `readlink`,
/// `opendir`/`readdir`, `stat`. No Foundation: a scan of thousands of functions reads tens of thousands of
/// small files, and each wrapper here costs exactly the syscalls it names.
public enum SysfsFiles {
    /// Reads up to `limit` bytes of a file (sysfs attributes fit one page). Throws ``KernelError``.
    public static func readBytes(_ path: String, limit: Int = 4096) throws -> [UInt8] {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw KernelError(call: "open", path: path, errno: errno) }
        defer { _ = close(fd) }
        return try [UInt8](unsafeUninitializedCapacity: limit) { buffer, count in
            var filled = 0
            while filled < limit {
                // read(2) into the unfilled tail of a buffer we own; sysfs returns 0 at end of file.
                let got = retryingEINTR { read(fd, buffer.baseAddress! + filled, limit - filled) }
                if got < 0 { count = filled; throw KernelError(call: "read", path: path, errno: errno) }
                if got == 0 { break }
                filled += got
            }
            count = filled
        }
    }

    /// Reads a sysfs attribute, a `/proc/sys` value or a small regular file of at most `limit` bytes with
    /// one `read(2)`: sysfs shows a whole attribute (at most a page) in the first read at offset 0, a
    /// `/proc/sys` handler copies its whole value, and a regular file returns less than asked only at its
    /// end, so the second read ``readBytes(_:limit:)`` makes to see end of file is skipped. Not for files
    /// that hand out records in pieces (`/proc/self/mountinfo`, `/dev/kmsg`). Throws ``KernelError``.
    public static func readAttribute(_ path: String, limit: Int = 4096) throws -> [UInt8] {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw KernelError(call: "open", path: path, errno: errno) }
        defer { _ = close(fd) }
        return try readAttribute(open: fd, limit: limit, path: path)
    }

    /// One `read(2)` of at most `limit` bytes from the start of the attribute open as `fd` (sysfs shows a
    /// whole attribute in the first read at offset 0); `path` names it in errors. Throws ``KernelError``.
    static func readAttribute(open fd: Int32, limit: Int, path: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: limit) { buffer, count in
            // read(2) into a buffer of exactly `limit` bytes that we own.
            let got = retryingEINTR { read(fd, buffer.baseAddress!, limit) }
            if got < 0 { count = 0; throw KernelError(call: "read", path: path, errno: errno) }
            count = got
        }
    }

    /// Reads a text attribute (``readAttribute(_:limit:)``) without its trailing newline (`0x10de`).
    /// Throws ``KernelError``.
    public static func readString(_ path: String) throws -> String {
        var bytes = try readAttribute(path)
        while let last = bytes.last, last == 0x0a || last == 0x20 || last == 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads `count` bytes at `offset` with `pread(2)`; fewer when the file is shorter. Throws ``KernelError``.
    public static func readBytes(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw KernelError(call: "open", path: path, errno: errno) }
        defer { _ = close(fd) }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
            // pread(2) into a buffer of exactly `count` bytes.
            let got = retryingEINTR { pread(fd, buffer.baseAddress!, count, off_t(offset)) }
            if got < 0 { filled = 0; throw KernelError(call: "pread", path: path, errno: errno) }
            filled = got
        }
    }

    /// The target text of a symbolic link, as stored (`../../../bus/pci/drivers/nvme`). Throws ``KernelError``.
    public static func readLink(_ path: String) throws -> String {
        try withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX)) { buffer in
            // readlink(2) does not NUL-terminate: its return value is the length.
            let length = readlink(path, buffer.baseAddress!, buffer.count)
            guard length >= 0 else { throw KernelError(call: "readlink", path: path, errno: errno) }
            let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The names in a directory, without `.` and `..`, in the order `readdir` gives. Throws ``KernelError``.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw KernelError(call: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        return entryNames(of: dir)
    }

    /// The names the open directory stream `stream` lists, without `.` and `..`, in the order `readdir` gives.
    static func entryNames(of stream: OpaquePointer) -> [String] {
        var names: [String] = []
        // readdir(3) returns entries owned by the DIR stream, valid until the next call: copy the name out.
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// Whether `path` exists, following symbolic links (a dangling link does not exist).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether `path` itself is a symbolic link (dangling or not).
    public static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Whether `path` is a directory, following links.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Resolves `link` (found in directory `directory`) to a normalised absolute path without touching the
    /// file system: `..` and `.` are folded textually. An absolute target is returned as is.
    public static func resolve(link: String, in directory: String) -> String {
        let joined = link.hasPrefix("/") ? link : directory + "/" + link
        return normalize(joined)
    }

    /// Folds `.` and `..` components and repeated slashes of an absolute path.
    public static func normalize(_ path: String) -> String {
        // Every sysfs path is ASCII: folded on its bytes (a re-read resolves one link per device). Anything
        // else goes by characters, as a combining mark after a `/` makes one character of the two.
        guard path.utf8.allSatisfy({ $0 < 0x80 }) else { return normalizeCharacters(path) }
        var path = path
        return path.withUTF8 { normalizeASCII($0) }
    }

    /// ``normalize(_:)`` of an ASCII path, component by component on its bytes. `bytes` is the path's own
    /// storage, lent by `String.withUTF8` for the call only: nothing keeps a pointer into it.
    private static func normalizeASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var folded: [UInt8] = []
        folded.reserveCapacity(bytes.count + 1)
        var starts: [Int] = []  // where each kept component's `/` is in `folded`
        var index = 0
        while index < bytes.count {
            if bytes[index] == slash { index += 1; continue }
            let start = index
            while index < bytes.count, bytes[index] != slash { index += 1 }
            let length = index - start
            if length == 1, bytes[start] == dot { continue }
            if length == 2, bytes[start] == dot, bytes[start + 1] == dot {
                if let last = starts.popLast() { folded.removeSubrange(last...) }
                continue
            }
            starts.append(folded.count)
            folded.append(slash)
            folded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        }
        return folded.isEmpty ? "/" : String(decoding: folded, as: UTF8.self)
    }

    /// ``normalize(_:)`` by characters.
    static func normalizeCharacters(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
