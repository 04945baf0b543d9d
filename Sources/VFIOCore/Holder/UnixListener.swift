internal import CVFIO
#if canImport(Glibc)
import Glibc
#endif

/// Binding a Unix stream socket to a path of any length: the socket address holds 107 bytes, so the
/// parent directory is opened (`O_PATH`) and the socket bound through `/proc/self/fd/<dir>/<name>`.
enum UnixListener {
    /// A listening, non-blocking, close-on-exec socket at `path` with mode 0666; the parent directory is
    /// made (0755) when missing. A stale socket file (connecting to it is refused) is replaced; a live one
    /// or a file that is not a socket is an error.
    static func bind(path: String) throws(HolderSocketError) -> Int32 {
        let (directory, name) = split(path)
        makeDirectories(directory)
        let directoryFD = open(directory, CVFIO_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw HolderSocketError(call: "open", path: directory, errno: errno) }
        defer { close(directoryFD) }
        let address = "/proc/self/fd/\(directoryFD)/\(name)"
        try removeStale(address: address, path: path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HolderSocketError(call: "socket", path: path, errno: errno) }
        do throws(HolderSocketError) {
            try withAddress(address, path: path) { pointer, length in
                // bind(2) reads a sockaddr_un of `length` bytes; the kernel resolves the path (through the
                // /proc/self/fd link to the directory) and creates the socket file in it.
                Glibc.bind(fd, pointer, length)
            } failing: { "bind" }
            // The file's mode, not the directory's, decides who may connect: 0666, everyone.
            guard fchmodat(directoryFD, name, 0o666, 0) == 0 else { throw HolderSocketError(call: "chmod", path: path, errno: errno) }
            guard listen(fd, 128) == 0 else { throw HolderSocketError(call: "listen", path: path, errno: errno) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Connects a new blocking, close-on-exec socket to `path` (of any length); returns it or -1 with errno.
    static func connect(path: String) -> Int32 {
        let (directory, name) = split(path)
        let directoryFD = open(directory, CVFIO_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { return -1 }
        defer { close(directoryFD) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        do {
            try withAddress("/proc/self/fd/\(directoryFD)/\(name)", path: path) { pointer, length in
                // connect(2) reads the sockaddr_un during the call.
                retryingEINTR { Glibc.connect(fd, pointer, length) }
            } failing: { "connect" }
        } catch {
            let saved = errno
            close(fd)
            errno = saved
            return -1
        }
        return fd
    }

    /// A file that is a socket nobody listens on is removed; one somebody does, or a non-socket, refused.
    private static func removeStale(address: String, path: String) throws(HolderSocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw HolderSocketError(call: "not-a-socket", path: path, errno: 0) }
        let probe = connect(path: path)
        if probe >= 0 {
            close(probe)
            throw HolderSocketError(call: "in-use", path: path, errno: 0)
        }
        unlink(path)
    }

    /// Calls `body` with a `sockaddr_un` for `address`; throws with `call()` when `body` returns non-zero.
    private static func withAddress(_ address: String, path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32,
                                    failing call: () -> String) throws(HolderSocketError) {
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(address.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < capacity else { throw HolderSocketError(call: "path-too-long", path: path, errno: 0) }
        // sun_path is a fixed C array inside the struct: its bytes are written in place, NUL-terminated
        // (the struct was zeroed).
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in raw.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafePointer(to: &storage) { pointer in
            // A sockaddr_un may be read as the generic sockaddr header the socket calls take.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
        guard result == 0 else { throw HolderSocketError(call: call(), path: path, errno: errno) }
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// `mkdir -p` with mode 0755 (errors show at the `open` that follows).
    private static func makeDirectories(_ directory: String) {
        var prefix = ""
        for part in directory.split(separator: "/") {
            prefix += "/" + part
            _ = mkdir(prefix, 0o755)
        }
    }
}
