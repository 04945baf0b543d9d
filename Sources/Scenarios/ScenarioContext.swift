import Foundation
import VFIOSimulator

/// One scenario run: its directory (database, simulated tree, logs), the host root vfiod and the opener see,
/// and the vfiod it started.
final class ScenarioContext {
    let environment: ScenarioEnvironment
    let name: String
    /// `WORK/NAME-<uuid>`.
    let directory: String
    /// `/` on Linux; the materialised topology on the simulator.
    let hostRoot: String
    /// The database every vfiod of this run uses.
    var database: String { directory + "/vfiod.db" }
    private(set) var vfiod: VFIODChild?
    /// The client of the vfiod started last.
    private(set) var api: APIClient?
    private var openers: [OpenerChild] = []

    /// Creates the run's directory and, on the simulator, writes the topology's tree into it.
    init(environment: ScenarioEnvironment, name: String) throws {
        self.environment = environment
        self.name = name
        directory = environment.workDirectory + "/" + name + "-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        switch environment.host {
        case .simulated(let topology):
            hostRoot = directory + "/tree"
            do {
                // SysfsTreeBuilder creates the tree's first level beneath `root`, not `root` itself.
                try FileManager.default.createDirectory(atPath: hostRoot, withIntermediateDirectories: true)
                let host = try Topology.load(path: topology)
                try SysfsTreeBuilder(root: hostRoot).build(host)
            } catch {
                throw ScenarioFailure("cannot materialise \(topology): \(error)")
            }
        case .linux:
            hostRoot = "/"
        }
    }

    /// vfiod's arguments for this host, database and allowlist.
    var vfiodArguments: [String] {
        var arguments = ["--db", database] + LabDevices.allowArguments
        if environment.isSimulated {
            arguments += ["--simulate-in-place", hostRoot]
        } else {
            arguments += ["--host-root", "/"]
        }
        return arguments
    }

    /// Starts vfiod (stopping one already running) and waits until it listens.
    @discardableResult
    func startVFIOD(environment extra: [String: String] = [:]) throws -> APIClient {
        stopVFIOD()
        let child = try VFIODChild(binary: environment.vfiod, arguments: vfiodArguments, environment: extra)
        vfiod = child
        let client = try child.waitUntilListening()
        api = client
        return client
    }

    /// For a failure's line: whether vfiod still runs (or how it ended) and the end of its log.
    var vfiodState: String {
        guard let vfiod else { return "" }
        let state = vfiod.isRunning ? "running" : "ended (\(vfiod.waitForExit()))"
        let tail = vfiod.log.split(separator: "\n").suffix(8).joined(separator: " | ")
        return "; vfiod \(state), log: \(tail)"
    }

    /// Stops the running vfiod, noting when it ignored SIGTERM.
    func stopVFIOD() {
        if let vfiod, !vfiod.stop() { note("vfiod ignored SIGTERM for 30 s and was killed (SIGTERM lost right after start?)") }
    }

    /// Starts an opener and remembers it, so ``close(passed:)`` never leaves one running.
    func startOpener(_ arguments: [String]) throws -> OpenerChild {
        let opener = try OpenerChild(binary: environment.opener, arguments: arguments)
        openers.append(opener)
        return opener
    }

    /// A path under the host root (`sys/bus/pci/devices/…`).
    func hostPath(_ relative: String) -> String {
        (hostRoot.hasSuffix("/") ? hostRoot : hostRoot + "/") + relative
    }

    /// `driver_override` of `address` from the tree; `nil` when `(null)`, empty or unreadable.
    func driverOverride(of address: String) -> String? {
        guard let text = try? String(contentsOfFile: hostPath("sys/bus/pci/devices/\(address)/driver_override"), encoding: .utf8)
        else { return nil }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty || value == "(null)" ? nil : value
    }

    /// The `driver` link's target name of `address`; `nil` when unbound.
    func driver(of address: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: hostPath("sys/bus/pci/devices/\(address)/driver"))
        else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }

    /// Writes a progress note through the environment's log.
    func note(_ text: String) {
        environment.log?("note \(name): \(text)")
    }

    /// Best effort after a scenario ended part-way: releases every active assignment, so a real host goes
    /// back to its drivers before the next scenario.
    private func releaseLiveAssignments(_ api: APIClient) {
        guard let live = try? api.list("/v1/assignments?state=active") else { return }
        for assignment in live {
            let operation = try? api.releaseOperation(assignment.string("id"))
            note("cleanup: released \(assignment.string("id")): \(operation?.string("state") ?? "no answer")")
        }
    }

    /// Stops every opener and vfiod (releasing what is still leased first, when the scenario ended part-way);
    /// removes the directory unless `keep` (a failure: kept for a look).
    func close(keep: Bool) {
        for opener in openers { opener.stop() }
        if let api, vfiod?.isRunning == true { releaseLiveAssignments(api) }
        stopVFIOD()
        if keep { note("kept \(directory)") } else { try? FileManager.default.removeItem(atPath: directory) }
    }
}
