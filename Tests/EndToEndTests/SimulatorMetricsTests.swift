import Foundation
import Testing
import TestSupport

/// `/metrics` shows the simulated kernel's own CPU apart from vfiod's (`vfiod_simulator_*`), only when
/// there is a simulated kernel, and the writer's commits (`vfiod_store_*`): what bench/run divides by.
@Suite struct SimulatorMetricsTests {
    /// The value of the unlabelled sample `name` in a Prometheus text.
    static func sample(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test func aLeaseOnTheSimulatedKernelCountsItsWritesAndTheirCPU() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let before = try await service.get("/metrics").bodyText
            let callsBefore = try #require(Self.sample("vfiod_simulator_calls_total", in: before))
            let secondsBefore = try #require(Self.sample("vfiod_simulator_cpu_seconds_total", in: before))
            let commitsBefore = try #require(Self.sample("vfiod_store_commits_total", in: before))
            let (created, _) = try await service.send("POST", "/v1/assignments",
                                                      json: ["device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"]])
            #expect(created.status == 202, "\(created.bodyText)")
            let bind = try await service.finish(operation: created.header("Operation-Location"))
            #expect(bind["state"] as? String == "succeeded", "\(bind)")
            let after = try await service.get("/metrics").bodyText
            // A device without a driver: the override and the probe at least.
            #expect(try #require(Self.sample("vfiod_simulator_calls_total", in: after)) >= callsBefore + 2)
            #expect(try #require(Self.sample("vfiod_simulator_cpu_seconds_total", in: after)) > secondsBefore)
            // Creating the assignment and binding its device commit; every commit carries at least one transaction.
            let commits = try #require(Self.sample("vfiod_store_commits_total", in: after))
            #expect(commits >= commitsBefore + 2)
            #expect(try #require(Self.sample("vfiod_store_transactions_total", in: after)) >= commits)
        }
    }

    @Test func aRealKernelHasNoSimulatorMetrics() async throws {
        try await withService(try await TestService(host: leaseHost())) { service in
            let text = try await service.get("/metrics").bodyText
            #expect(text.contains("vfiod_worker_threads "))
            #expect(!text.contains("vfiod_simulator_"))
        }
    }
}
