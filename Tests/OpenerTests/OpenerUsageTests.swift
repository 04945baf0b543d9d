import Testing

/// The opener's command line: help, and usage errors that exit 2 before anything is opened.
@Suite struct OpenerUsageTests {
    @Test func helpPrintsTheUsageOnStdoutAndExitsZero() throws {
        let result = try OpenerProcess.run(["--help"])
        #expect(result.status == 0)
        #expect(result.err.isEmpty, "\(result.err)")
        #expect(result.out.hasPrefix("usage: vfio-opener --group N --device ADDR"))
        for documented in ["--cdev", "--on-request", "--hold-seconds", "--host-root", "ready pid=", "request n=",
                           "closed", "exit reason=", "error op=", "exit status", "--simulated"] {
            #expect(result.out.contains(documented), "usage lacks \(documented)")
        }
    }

    @Test(arguments: [
        ([String](), "one of --group or --cdev is required"),
        (["--group", "7"], "--group needs --device"),
        (["--device", "0000:00:03.0"], "one of --group or --cdev is required"),
        (["--group", "seven", "--device", "0000:00:03.0"], "--group needs a group number"),
        (["--group", "-1", "--device", "0000:00:03.0"], "--group needs a group number"),
        (["--group", "7", "--device", "00:03.0"], "--device needs a PCI address"),
        (["--group", "7", "--device", "0000:00:20.0"], "--device needs a PCI address"),
        (["--group", "7", "--device", "0000:00:03.8"], "--device needs a PCI address"),
        (["--group", "7", "--device", "0000:00:03.0", "--on-request", "panic"], "--on-request needs close or ignore"),
        (["--group", "7", "--device", "0000:00:03.0", "--hold-seconds", "1.5"], "--hold-seconds needs a whole number"),
        (["--group", "7", "--device", "0000:00:03.0", "--hold-seconds"], "missing value for: --hold-seconds"),
        (["--group", "7", "--device", "0000:00:03.0", "--verbose"], "unexpected argument: --verbose"),
        (["--cdev", "vfio0"], "--cdev needs an absolute path"),
        (["--cdev", "/dev/vfio/devices/vfio0", "--group", "7"], "--cdev cannot be combined"),
        (["--cdev", "/dev/vfio/devices/vfio0", "--device", "0000:00:03.0"], "--cdev cannot be combined"),
        (["--simulated", "--group", "7", "--device", "0000:00:03.0"], "--simulated needs --host-root"),
        (["--simulated", "--host-root", "/tmp/x", "--cdev", "/dev/vfio/devices/vfio0"], "--simulated --cdev needs --device"),
    ])
    func aBadCommandLineIsAUsageErrorWithExitStatusTwo(_ arguments: [String], _ expected: String) throws {
        let result = try OpenerProcess.run(arguments)
        #expect(result.status == 2)
        #expect(result.out.isEmpty, "\(result.out)")
        #expect(result.errLines.count == 2, "\(result.err)")
        #expect(result.errLines.first?.contains(expected) == true, "\(result.err)")
        #expect(result.errLines.last?.hasPrefix("usage: vfio-opener") == true, "\(result.err)")
    }
}
