import Foundation

/// Running `vfio-opener` on the host under test.
enum OpenerSteps {
    /// The opener's arguments for this host: none on Linux; `--simulated --host-root TREE` on the simulator.
    static func hostArguments(_ context: ScenarioContext) -> [String] {
        context.environment.isSimulated ? ["--simulated", "--host-root", context.hostRoot] : []
    }

    /// Opens the group with `vfio-opener` for a second and checks it got the device (`ready`) and let go
    /// (`exit reason=hold-seconds`, status 0).
    static func holdBriefly(_ context: ScenarioContext, group: Int, address: String) throws {
        let extra = hostArguments(context)
        let opener = try context.startOpener(["--group", "\(group)", "--device", address, "--on-request", "close",
                                              "--hold-seconds", "1"] + extra)
        try expectReady(opener, "/dev/vfio/\(group)")
        let status = opener.waitForExit()
        try check(status == 0 && opener.waitForLine(startingWith: "exit reason=hold-seconds") != nil,
                  "vfio-opener exited \(status): \(opener.transcript)")
    }

    /// Requires the opener's `ready` line.
    static func expectReady(_ opener: OpenerChild, _ what: String) throws {
        guard opener.waitForLine(startingWith: "ready") != nil else {
            opener.stop()
            throw ScenarioFailure("vfio-opener could not hold \(what): \(opener.transcript)")
        }
    }
}
