import Foundation

/// Running `vfio-holder` on the host under test.
enum HolderSteps {
    /// The holder's arguments for this host: none on Linux; `--simulated --host-root TREE` on the simulator,
    /// or `nil` when this holder cannot hold a simulated device (its `--help` has no `--simulated`).
    static func hostArguments(_ context: ScenarioContext) -> [String]? {
        guard context.environment.isSimulated else { return [] }
        guard HolderChild.supportsSimulation(context.environment.holder) else { return nil }
        return ["--simulated", "--host-root", context.hostRoot]
    }

    /// The holder's host arguments, or a skip when it cannot hold a device of this host.
    static func requireHolder(_ context: ScenarioContext) throws -> [String] {
        guard let arguments = hostArguments(context) else {
            throw ScenarioSkip("\(ScenarioSkip.notLandedYet): vfio-holder has no --simulated mode to hold a simulated device")
        }
        return arguments
    }

    /// Opens the group with `vfio-holder` for a second and checks it got the device (`ready`) and let go
    /// (`exit reason=hold-seconds`, status 0). A holder without a simulated mode: checks `dev/vfio/GROUP` exists.
    static func holdBriefly(_ context: ScenarioContext, group: Int, address: String) throws {
        guard let extra = hostArguments(context) else {
            try check(FileManager.default.fileExists(atPath: context.hostPath("dev/vfio/\(group)")),
                      "dev/vfio/\(group) does not exist in the tree")
            context.note("vfio-holder has no --simulated mode: checked only that dev/vfio/\(group) exists")
            return
        }
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
