import Foundation
import Scenarios
import Testing
import TestSupport

/// The scenario suite against the simulated kernel with `examples/topologies/qemu-lab.json`, through the real
/// vfiod and vfio-opener binaries. Every scenario must pass: a skip is a failure here, since the simulated
/// lab host has every capability a scenario may need (the topology gives it the device cdev and iommufd, so
/// `cdev-path`, the one scenario that may skip on a real kernel, runs in full).
@Suite struct ScenarioTests {
    static func environment() throws -> (ScenarioEnvironment, TemporaryDirectory) {
        let work = try TemporaryDirectory(prefix: "scenarios")
        var environment = ScenarioEnvironment(
            vfiod: Fixtures.builtExecutable("vfiod"), opener: Fixtures.builtExecutable("vfio-opener"),
            host: .simulated(topology: Fixtures.topologyDirectory + "/qemu-lab.json"), workDirectory: work.path)
        // lease-timing's figures mean nothing on the simulator: a few cycles show it runs and checks.
        environment.timingCycles = 2
        environment.resultsDirectory = work.path
        return (environment, work)
    }

    static func expectPass(_ name: String) async throws {
        let (environment, work) = try environment()
        defer { work.remove() }
        let result = await ScenarioSuite.run(name, in: environment)
        #expect(result.outcome == .pass, "\(result.line)")
    }

    @Test func suiteListsEveryScenario() {
        #expect(ScenarioSuite.names == ["inventory", "lease-edu", "lease-e1000e", "lease-bridge-group", "refusals",
                                        "reset-e1000e", "reset-nvme", "cooperative-release-close",
                                        "cooperative-release-ignore", "cdev-path", "cdev-release-ignore", "holder-socket",
                                        "crash-mid-bind", "lease-timing"])
    }

    /// Every scenario of the suite, each a case of its own.
    @Test(arguments: ScenarioSuite.names)
    func scenarioPasses(_ name: String) async throws { try await Self.expectPass(name) }
}
