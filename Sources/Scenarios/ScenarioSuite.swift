import Foundation
import TestSupport

/// The scenario suite: the same checks against the simulated kernel (the ordinary tests) and the real kernel
/// (the QEMU lab). Each scenario starts its own vfiod and leaves the host as it found it.
public enum ScenarioSuite {
    /// Every scenario, in the order the suite runs them.
    public static let names: [String] = scenarios.map(\.name)

    private static let scenarios: [(name: String, body: @Sendable (ScenarioContext) throws -> Void)] = [
        ("inventory", InventoryScenario.run),
        ("lease-edu", LeaseScenarios.edu),
        ("lease-e1000e", LeaseScenarios.e1000e),
        ("lease-bridge-group", LeaseScenarios.bridgeGroup),
        ("refusals", RefusalsScenario.run),
        ("reset-e1000e", ResetScenarios.e1000e),
        ("reset-nvme", ResetScenarios.nvme),
        ("cooperative-release-close", CooperativeReleaseScenarios.close),
        ("cooperative-release-ignore", CooperativeReleaseScenarios.ignore),
        ("cdev-path", CdevScenario.run),
        ("cdev-release-ignore", CdevReleaseScenario.run),
        ("holder-socket", HolderSocketScenario.run),
        ("crash-mid-bind", CrashMidBindScenario.run),
        ("lease-timing", LeaseTimingScenario.run),
    ]

    /// Runs scenario `name` on the calling thread (it blocks: processes, HTTP, waits). An unknown name fails.
    public static func runBlocking(_ name: String, in environment: ScenarioEnvironment) -> ScenarioResult {
        guard let scenario = scenarios.first(where: { $0.name == name }) else {
            return ScenarioResult(name: name, outcome: .fail("no such scenario; known: \(names.joined(separator: ","))"))
        }
        let context: ScenarioContext
        do {
            context = try ScenarioContext(environment: environment, name: name)
        } catch {
            return ScenarioResult(name: name, outcome: .fail("\(error)"))
        }
        let outcome: ScenarioOutcome
        do {
            try scenario.body(context)
            outcome = .pass
        } catch let skip as ScenarioSkip {
            outcome = .skip(skip.description)
        } catch {
            outcome = .fail("\(error)\(context.vfiodState)")
        }
        let result = ScenarioResult(name: name, outcome: outcome)
        context.close(keep: result.failed)
        return result
    }

    /// Runs scenario `name` on a thread of its own and returns its result.
    public static func run(_ name: String, in environment: ScenarioEnvironment) async -> ScenarioResult {
        do {
            return try await runOnDedicatedThread { runBlocking(name, in: environment) }
        } catch {
            return ScenarioResult(name: name, outcome: .fail("could not start a thread: \(error)"))
        }
    }
}
