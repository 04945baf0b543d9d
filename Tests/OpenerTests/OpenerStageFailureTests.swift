import Testing

/// Each setup stage fails with its own `error op=… errno=… (NAME)` line and exit status. There are no VFIO
/// devices here, so the host root is a temporary directory: missing files fail the open, and empty regular
/// files open but answer every ioctl with ENOTTY.
@Suite struct OpenerStageFailureTests {
    /// Runs the opener against `root` and checks the one error line, the exit status and the final stdout line.
    /// Runs the opener with `arguments` on a fake host root holding `files` (empty regular files): it must
    /// fail with `status`, one error line, and its exit line.
    private func expectFailure(_ arguments: [String], files: [String], status: Int32, errorLine: String) throws {
        let root = try FakeHostRoot()
        defer { root.remove() }
        for file in files { try root.addRegularFile(file) }
        let result = try OpenerProcess.run(arguments + ["--host-root", root.path])
        #expect(result.status == status)
        #expect(result.errLines == [errorLine], "\(result.err)")
        #expect(result.outLines == ["exit reason=error code=\(status)"], "\(result.out)")
    }

    private let group = ["--group", "7", "--device", "0000:00:03.0"]
    private let cdev = ["--cdev", "/dev/vfio/devices/vfio0"]

    @Test func anEmptyHostRootFailsAtOpeningTheContainer() throws {
        try expectFailure(group, files: [], status: 3, errorLine: "error op=open-container errno=2 (ENOENT)")
    }

    @Test(arguments: [
        ["--on-request", "close"], ["--on-request", "ignore"], ["--hold-seconds", "0"], ["--hold-seconds", "600"],
        ["--on-request", "ignore", "--hold-seconds", "30"],
    ])
    func everyValidOptionGetsPastTheCommandLine(_ options: [String]) throws {
        try expectFailure(group + options, files: [], status: 3, errorLine: "error op=open-container errno=2 (ENOENT)")
    }

    @Test func aMissingGroupFailsAtOpeningTheGroup() throws {
        try expectFailure(group, files: ["/dev/vfio/vfio"], status: 4, errorLine: "error op=open-group errno=2 (ENOENT)")
    }

    @Test func aContainerThatIsNotVFIOFailsTheAPIVersionCheck() throws {
        try expectFailure(group, files: ["/dev/vfio/vfio", "/dev/vfio/7"], status: 3, errorLine: "error op=VFIO_GET_API_VERSION errno=25 (ENOTTY)")
    }

    @Test func aTrailingSlashOnTheHostRootIsIgnored() throws {
        let root = try FakeHostRoot()
        defer { root.remove() }
        try root.addRegularFile("/dev/vfio/vfio")
        let result = try OpenerProcess.run(group + ["--host-root", root.path + "//"])
        #expect(result.status == 4)
        #expect(result.errLines == ["error op=open-group errno=2 (ENOENT)"], "\(result.err)")
    }

    @Test func aMissingCdevFailsAtOpeningTheDevice() throws {
        try expectFailure(cdev, files: [], status: 6, errorLine: "error op=open-cdev errno=2 (ENOENT)")
    }

    @Test func aMissingIommufdFailsInTheIOMMUStage() throws {
        try expectFailure(cdev, files: ["/dev/vfio/devices/vfio0"], status: 5, errorLine: "error op=open-iommufd errno=2 (ENOENT)")
    }

    @Test func aCdevThatIsNotVFIOFailsTheBind() throws {
        try expectFailure(cdev, files: ["/dev/vfio/devices/vfio0", "/dev/iommu"], status: 6,
                          errorLine: "error op=VFIO_DEVICE_BIND_IOMMUFD errno=25 (ENOTTY)")
    }

    @Test func aSimulatedOpenerWithoutTheGroupFileFailsAtOpeningTheGroup() throws {
        try expectFailure(["--simulated"] + group, files: [], status: 4, errorLine: "error op=open-group errno=2 (ENOENT)")
    }

    @Test func aSimulatedOpenerWithoutTheCdevFailsAtOpeningTheDevice() throws {
        try expectFailure(["--simulated", "--device", "0000:00:03.0"] + cdev, files: [], status: 6,
                          errorLine: "error op=open-cdev errno=2 (ENOENT)")
    }
}
