#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// Low-level writes into a fake host tree: files, directories, relative symbolic links. Paths are relative
/// to the tree's root (`sys/devices/pci0000:00`), which keeps link arithmetic independent of where it lives.
/// With the root's directory fd (``SimulatedTree``'s), the calls are the `*at` ones relative to it, so the
/// kernel does not walk the root's own path at every call; without, absolute paths.
struct TreeWriter {
    /// The absolute root, without a trailing slash.
    let root: String
    /// The root's directory fd, or `AT_FDCWD` (then paths are absolute).
    let rootFD: Int32
    /// Directories known to exist, to skip repeated `mkdir` calls while building thousands of devices.
    private var made: Set<String> = [""]

    init(root: String, rootFD: Int32 = AT_FDCWD) {
        var trimmed = root
        while trimmed.hasSuffix("/"), trimmed.count > 1 { trimmed.removeLast() }
        self.root = trimmed
        self.rootFD = rootFD
    }

    /// The absolute path of `relative`.
    func absolute(_ relative: String) -> String { root + "/" + relative }

    /// `relative` as the `*at` calls take it with ``rootFD``.
    func at(_ relative: String) -> String { rootFD == AT_FDCWD ? absolute(relative) : relative }

    /// `mkdir -p`, deepest first: the parent is made only when `mkdir` says it is missing (`ENOENT`), so
    /// a directory whose parent exists costs one `mkdir`. Throws ``KernelError``.
    mutating func directory(_ relative: String) throws {
        guard !made.contains(relative) else { return }
        var result = mkdirat(rootFD, at(relative), 0o755)
        if result != 0 && errno == ENOENT, let slash = relative.lastIndex(of: "/") {
            try directory(String(relative[..<slash]))
            result = mkdirat(rootFD, at(relative), 0o755)
        }
        if result != 0 && errno != EEXIST {
            throw KernelError(call: "mkdir", path: absolute(relative), errno: errno)
        }
        made.insert(relative)
    }

    /// Writes `text` to a file, creating its directory. Throws ``KernelError``.
    mutating func file(_ relative: String, _ text: String) throws {
        try file(relative, bytes: Array(text.utf8))
    }

    /// Writes bytes to a file, creating its directory. Throws ``KernelError``.
    mutating func file(_ relative: String, bytes: [UInt8]) throws {
        let path = at(relative)
        // Most writes go to a directory that exists (an attribute of a device): try before `mkdir -p`.
        var fd = openat(rootFD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT, let slash = relative.lastIndex(of: "/") {
            try directory(String(relative[..<slash]))
            fd = openat(rootFD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw KernelError(call: "open", path: absolute(relative), errno: errno) }
        defer { close(fd) }
        try Self.write(bytes, to: fd, path: absolute(relative))
    }

    /// Writes all of `bytes` to the open file `fd` (`path` names it in errors): at its offset, or from
    /// byte `offset` of the file when given (`pwrite(2)`, the file's offset untouched). Throws ``KernelError``.
    static func write(_ bytes: [UInt8], to fd: Int32, at offset: off_t? = nil, path: String) throws(KernelError) {
        var written = 0
        while written < bytes.count {
            // write(2) or pwrite(2) the remaining tail of `bytes`, at its own place in the file.
            let count = bytes.withUnsafeBytes { raw in
                let tail = raw.baseAddress! + written
                return offset.map { pwrite(fd, tail, raw.count - written, $0 + off_t(written)) }
                    ?? Glibc.write(fd, tail, raw.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw KernelError(call: offset == nil ? "write" : "pwrite", path: path, errno: errno)
            }
            written += count
        }
    }

    /// Creates the symbolic link `relative` pointing at `target` (both root-relative) with a relative
    /// target text, as sysfs does (`../../../bus/pci/drivers/nvme`). Replaces an existing link.
    mutating func link(_ relative: String, to target: String) throws {
        let directoryPart = relative.lastIndex(of: "/").map { String(relative[..<$0]) } ?? ""
        let text = Self.relativePath(from: directoryPart, to: target)
        let path = at(relative)
        // As for files: the directory usually exists, so `mkdir -p` only after ENOENT.
        var result = symlinkat(text, rootFD, path)
        if result != 0 && errno == ENOENT {
            try directory(directoryPart)
            result = symlinkat(text, rootFD, path)
        }
        if result != 0 {
            guard errno == EEXIST else { throw KernelError(call: "symlink", path: absolute(relative), errno: errno) }
            unlinkat(rootFD, path, 0)
            guard symlinkat(text, rootFD, path) == 0 else { throw KernelError(call: "symlink", path: absolute(relative), errno: errno) }
        }
    }

    /// Removes a file or link; a missing one is fine.
    func remove(_ relative: String) {
        unlinkat(rootFD, at(relative), 0)
    }

    /// ``remove(_:)``, saying whether `relative` is gone now (removed, or missing already).
    func removeReporting(_ relative: String) -> Bool {
        unlinkat(rootFD, at(relative), 0) == 0 || errno == ENOENT
    }

    /// Creates the empty file `relative` (and its directory) unless something is there already, which is
    /// left as it is: one `open(2)` without `O_TRUNC`, no `stat(2)` first. Throws ``KernelError``.
    mutating func fileUnlessPresent(_ relative: String) throws {
        let path = at(relative)
        var fd = openat(rootFD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT, let slash = relative.lastIndex(of: "/") {
            try directory(String(relative[..<slash]))
            fd = openat(rootFD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        }
        // A directory there (EISDIR) is present too, as `stat(2)` would have said.
        if fd < 0 && errno == EISDIR { return }
        guard fd >= 0 else { throw KernelError(call: "open", path: absolute(relative), errno: errno) }
        close(fd)
    }

    /// Removes a directory tree (used for `vfio-dev/`); a missing one is fine.
    func removeTree(_ relative: String) {
        let path = absolute(relative)
        do {
            removeTree(relative, names: try SysfsFiles.listDirectory(path))
        } catch let error as KernelError where error.errno == ENOENT {
            // Missing: `rmdir` would fail too.
        } catch {
            rmdir(path)
        }
    }

    /// Removes `vfio-dev/vfioN` (`relative`) as ``removeTree(_:)`` would, trying the layout the simulator
    /// writes first: a directory holding just `dev`. `rmdir(2)` goes first, so a symbolic link is never
    /// followed (it fails with `ENOTDIR` and is unlinked); anything else falls back to ``removeTree(_:)``.
    /// `listedAsDirectory`: the listing said it is a directory (no link), so `dev` goes first.
    func removeCdevDirectory(_ relative: String, listedAsDirectory: Bool = false) {
        let path = at(relative)
        if listedAsDirectory {
            unlinkat(rootFD, path + "/dev", 0)
        }
        if unlinkat(rootFD, path, AT_REMOVEDIR) == 0 { return }
        switch errno {
        case ENOENT: return
        case ENOTDIR: unlinkat(rootFD, path, 0)
        case ENOTEMPTY, EEXIST:
            unlinkat(rootFD, path + "/dev", 0)
            if unlinkat(rootFD, path, AT_REMOVEDIR) != 0 { removeTree(relative) }
        default: removeTree(relative)
        }
    }

    /// Removes an empty directory; a missing or non-empty one is left.
    func remove(directory relative: String) {
        unlinkat(rootFD, at(relative), AT_REMOVEDIR)
    }

    /// Removes the directory `relative` whose entries are `names` (as just listed), then the directory.
    func removeTree(_ relative: String, names: [String]) {
        let path = absolute(relative)
        for name in names {
            // One lstat(2): a directory that is not a symbolic link is descended into, anything else unlinked.
            var info = stat()
            if lstat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                removeTree(relative + "/" + name)
            } else {
                unlink(path + "/" + name)
            }
        }
        rmdir(path)
    }

    /// The relative path from directory `from` to `to`, both root-relative: `sys/bus/pci/devices` →
    /// `sys/devices/pci0000:00/0000:00:02.0` gives `../../../devices/pci0000:00/0000:00:02.0`.
    static func relativePath(from: String, to: String) -> String {
        guard isPlainRelative(from), isPlainRelative(to) else { return componentwiseRelativePath(from: from, to: to) }
        // Both are components joined by single slashes: compare them in place.
        let source = from.utf8
        let target = to.utf8
        var inSource = source.startIndex
        var inTarget = target.startIndex
        while inSource < source.endIndex, inTarget < target.endIndex {
            let sourceEnd = source[inSource...].firstIndex(of: UInt8(ascii: "/")) ?? source.endIndex
            let targetEnd = target[inTarget...].firstIndex(of: UInt8(ascii: "/")) ?? target.endIndex
            guard source[inSource..<sourceEnd].elementsEqual(target[inTarget..<targetEnd]) else { break }
            inSource = sourceEnd == source.endIndex ? sourceEnd : source.index(after: sourceEnd)
            inTarget = targetEnd == target.endIndex ? targetEnd : target.index(after: targetEnd)
        }
        let ups = inSource == source.endIndex ? 0 : 1 + source[inSource...].count { $0 == UInt8(ascii: "/") }
        var text = String(repeating: "../", count: ups)
        if inTarget == target.endIndex {
            if ups > 0 { text.removeLast() }
        } else {
            text += to[inTarget...]
        }
        return text
    }

    /// Whether `path` is components joined by single slashes (no empty one: no leading, trailing or double
    /// slash); empty counts as plain.
    private static func isPlainRelative(_ path: String) -> Bool {
        var previous = UInt8(ascii: "/")
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return false }
            previous = byte
        }
        return path.isEmpty || previous != UInt8(ascii: "/")
    }

    /// ``relativePath(from:to:)`` by splitting both paths into components (empty ones dropped).
    static func componentwiseRelativePath(from: String, to: String) -> String {
        let fromParts = from.split(separator: "/")
        let toParts = to.split(separator: "/")
        var common = 0
        while common < fromParts.count, common < toParts.count, fromParts[common] == toParts[common] { common += 1 }
        let ups = Array(repeating: "..", count: fromParts.count - common)
        return (ups + toParts[common...].map(String.init)).joined(separator: "/")
    }
}

/// The tree root's directory fd, open for as long as the simulated tree that holds it, so that
/// its writes and reads resolve paths from the root instead of walking the root's own path each time.
/// The root is a directory the simulator owns or was given in place; it is not expected to be swapped
/// for another while a kernel has it open.
final class TreeRootDirectory: Sendable {
    /// The fd, or `AT_FDCWD` when the root could not be opened (paths are then absolute).
    let fd: Int32

    init(root: String) {
        // open(2) of the directory itself, only ever used as the *at calls' starting point (Glibc exports
        // no O_PATH without _GNU_SOURCE; a root that cannot be opened for reading falls back to paths).
        let opened = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        fd = opened >= 0 ? opened : AT_FDCWD
    }

    deinit {
        if fd != AT_FDCWD { close(fd) }
    }
}
