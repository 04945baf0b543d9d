#if canImport(Glibc)
import Glibc
#endif

/// Who is at the other end of a Unix socket, as the kernel says (`SO_PEERCRED`: the credentials the peer
/// had when it connected), never as the peer says; and its command name from `/proc/<pid>/comm`.
public struct PeerCredentials: Sendable, Hashable {
    /// The peer's process id.
    public let pid: Int32
    /// The peer's effective uid.
    public let uid: UInt32
    /// The peer's effective gid.
    public let gid: UInt32
    /// `/proc/<pid>/comm` (at most 15 bytes); `?` when it cannot be read (the process is gone).
    public let command: String

    /// Creates a record (tests).
    public init(pid: Int32, uid: UInt32, gid: UInt32, command: String) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.command = command
    }

    /// The credentials of the peer of the connected Unix socket `socket`; `nil` when the kernel does not
    /// say (not a Unix socket).
    public static func of(socket: Int32) -> PeerCredentials? {
        // getsockopt(2) SO_PEERCRED fills `struct ucred { pid_t pid; uid_t uid; gid_t gid; }`: three
        // 32-bit fields in that order, which a tuple of three 32-bit integers lays out the same way.
        var credentials: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        let result = withUnsafeMutableBytes(of: &credentials) { bytes in
            getsockopt(socket, SOL_SOCKET, SO_PEERCRED, bytes.baseAddress, &length)
        }
        guard result == 0, length == MemoryLayout<(Int32, UInt32, UInt32)>.size else { return nil }
        let (pid, uid, gid) = credentials
        return PeerCredentials(pid: pid, uid: uid, gid: gid, command: command(of: pid))
    }

    /// The process's `comm`, the real `/proc` (the peer is a process of this machine, simulated host or not).
    static func command(of pid: Int32) -> String {
        guard pid > 0, let text = try? SysfsFiles.readString("/proc/\(pid)/comm") else { return "?" }
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        return trimmed.isEmpty ? "?" : trimmed
    }
}
