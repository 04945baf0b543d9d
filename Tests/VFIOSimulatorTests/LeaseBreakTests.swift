import Foundation
import Testing
import TestSupport
@testable import VFIOSimulator

/// The simulator asks "is this file open anywhere?" with a write lease it drops at once. The kernel tells
/// a lease holder of another process's open with SIGIO, whose default action ends the process: an open
/// landing between the lease and its close killed the asking process (seen once as a test run dying of
/// signal 29). After the simulator's first check, a lease break must leave the process running.
struct LeaseBreakTests {
    @Test func anOpenThatBreaksTheSimulatorsLeaseLeavesTheProcessRunning() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vfiod-lease-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { unlink(path) }
        #expect(SimulatedKernel.isOpenNowhere(path))

        // A lease as the check takes one, held while another process opens the file: that open breaks it.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        try #require(fd >= 0)
        // fcntl(2) F_SETLEASE (1024) with F_WRLCK: granted to root on a regular file nobody else has open.
        try #require(fcntl(fd, 1024, F_WRLCK) == 0)
        let opener = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "exec 3<>\"$0\" && echo held", path])
        // F_GETLEASE (1025) answers the type the lease is being broken to (F_UNLCK) once the kernel has
        // started the break — and so sent its signal to this process.
        var broken = false
        for _ in 0..<10_000 where !broken {
            broken = fcntl(fd, 1025) == F_UNLCK
            if !broken { usleep(1000) }
        }
        #expect(broken, "the child's open never broke the lease")
        close(fd)
        #expect(opener.waitForLine(in: .standardOutput, where: { $0 == "held" }) != nil)
        _ = opener.waitForExit()
    }
}
