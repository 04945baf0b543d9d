import Foundation
import Testing
import TestSupport
@testable import Store

@Suite struct DataVersionProbeTests {
    @Test func aCommitChangesTheVersionAndNothingElseDoes() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            let probe = DataVersionProbe(path: database.path)
            let before = try #require(probe.current())
            _ = try database.query("SELECT count(*) FROM t") { $0.int64(0) }
            #expect(probe.current() == before)
            try database.run("INSERT INTO t (n) VALUES (1)")
            #expect(probe.current() != before)
        }
    }

    /// SQLite holds a read lock on a byte of the WAL index (its "dead man switch") for as long as a
    /// connection of the process has it open; another process that finds the byte unlocked takes the index
    /// for abandoned and truncates it, and vfiod's own mapping of it then faults (SIGBUS). Closing any
    /// descriptor of the `-shm` file drops every POSIX lock the process holds on it: a probe that opened and
    /// closed the file itself did exactly that.
    @Test func aProbeLeavesSQLitesLocksOnTheWALIndexInPlace() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            #expect(try Self.lockOnWALIndex(of: database.path) == "read \(getpid())")
            let probe = DataVersionProbe(path: database.path)
            #expect(probe.current() != nil)
            #expect(try Self.lockOnWALIndex(of: database.path) == "read \(getpid())")
            try database.run("INSERT INTO t (n) VALUES (1)")
            #expect(try Self.lockOnWALIndex(of: database.path) == "read \(getpid())")
        }
    }

    /// Asks another process which lock stands in the way of a write lock on byte 128 of the WAL index
    /// (SQLite's unix VFS: 120 + 8 lock bytes): "read PID", "write PID" or "none".
    static func lockOnWALIndex(of path: String) throws -> String {
        let script = """
            import fcntl, os, struct, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            # struct flock on Linux x86-64/arm64: short type, short whence, off_t start, off_t len, pid_t pid.
            out = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0))
            kind, _, _, _, pid = struct.unpack("hhqqi4x", out)
            print({fcntl.F_RDLCK: "read", fcntl.F_WRLCK: "write"}.get(kind, "none"), pid if kind != fcntl.F_UNLCK else "")
            """
        let output = try ChildProcess.run("/usr/bin/python3", ["-c", script, path + "-shm"], mergingStandardError: true)
        return output.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
