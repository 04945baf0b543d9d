import Foundation

/// Running `vfio-holder` on the host under test.
enum HolderSteps {
    /// The holder's arguments for this host: none on Linux; `--simulated --host-root TREE` on the simulator.
    static func hostArguments(_ context: ScenarioContext) -> [String] {
        context.environment.isSimulated ? ["--simulated", "--host-root", context.hostRoot] : []
    }

    /// Opens the group with `vfio-holder` for a second and checks it got the device (`ready`) and let go
    /// (`exit reason=hold-seconds`, status 0).
    static func holdBriefly(_ context: ScenarioContext, group: Int, address: String) throws {
        let extra = hostArguments(context)
        let holder = try context.startHolder(["--group", "\(group)", "--device", address, "--on-request", "close",
                                              "--hold-seconds", "1"] + extra)
        try expectReady(holder, "/dev/vfio/\(group)")
        let status = holder.waitForExit()
        try check(status == 0 && holder.waitForLine(startingWith: "exit reason=hold-seconds") != nil,
                  "vfio-holder exited \(status): \(holder.transcript)")
    }

    /// Requires the holder's `ready` line.
    static func expectReady(_ holder: HolderChild, _ what: String) throws {
        guard holder.waitForLine(startingWith: "ready") != nil else {
            holder.stop()
            throw ScenarioFailure("vfio-holder could not hold \(what): \(holder.transcript)")
        }
    }
}
