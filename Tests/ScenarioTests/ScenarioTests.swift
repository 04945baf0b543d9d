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
        let environment = ScenarioEnvironment(
            vfiod: Fixtures.builtExecutable("vfiod"), opener: Fixtures.builtExecutable("vfio-opener"),
            host: .simulated(topology: Fixtures.topologyDirectory + "/qemu-lab.json"), workDirectory: work.path)
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
                                        "cooperative-release-ignore", "cdev-path", "cdev-release-ignore",
                                        "crash-mid-bind"])
    }

    @Test func inventory() async throws { try await Self.expectPass("inventory") }
    @Test func leaseEdu() async throws { try await Self.expectPass("lease-edu") }
    @Test func leaseE1000e() async throws { try await Self.expectPass("lease-e1000e") }
    @Test func leaseBridgeGroup() async throws { try await Self.expectPass("lease-bridge-group") }
    @Test func refusals() async throws { try await Self.expectPass("refusals") }
    @Test func resetE1000e() async throws { try await Self.expectPass("reset-e1000e") }
    @Test func resetNVMe() async throws { try await Self.expectPass("reset-nvme") }
    @Test func cooperativeReleaseClose() async throws { try await Self.expectPass("cooperative-release-close") }
    @Test func cooperativeReleaseIgnore() async throws { try await Self.expectPass("cooperative-release-ignore") }
    @Test func cdevPath() async throws { try await Self.expectPass("cdev-path") }
    @Test func cdevReleaseIgnore() async throws { try await Self.expectPass("cdev-release-ignore") }
    @Test func crashMidBind() async throws { try await Self.expectPass("crash-mid-bind") }
}
