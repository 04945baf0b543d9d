import Foundation
import VFIOCore
import VFIOSimulator

/// The sysfs writes of a bind and a release done by hand, with no vfiod running: what `lease-timing` sets
/// vfiod's latency beside. The same writes vfiod's binder makes, in the same order, and nothing else (no
/// journal, no reads between them): `driver_override`, unbind from the current driver, `drivers_probe`;
/// and back: clear `driver_override`, unbind from vfio-pci, `drivers_probe` when the device had a driver.
struct BareWrites {
    /// One endpoint and the driver it starts on (`nil`: none).
    struct Endpoint {
        let address: PCIAddress
        let original: String?
    }

    let kernel: any HostKernel

    /// The real kernel under `/`, or the simulated one in the scenario's tree (the writes go through the
    /// simulator there, as vfiod's do).
    init(_ context: ScenarioContext) throws {
        if context.environment.isSimulated {
            do { kernel = try SimulatedKernel(source: context.hostRoot, inPlace: true) } catch {
                throw ScenarioFailure("cannot open the simulated tree \(context.hostRoot): \(error)")
            }
        } else {
            kernel = LinuxKernel()
        }
    }

    /// Takes every endpoint to vfio-pci. Returns the seconds the writes took.
    func bind(_ endpoints: [Endpoint]) throws -> Double {
        try timed {
            for endpoint in endpoints {
                try kernel.setDriverOverride(endpoint.address, to: "vfio-pci")
                if let original = endpoint.original { try kernel.unbind(endpoint.address, from: original) }
                try kernel.probe(endpoint.address)
            }
        }
    }

    /// Gives every endpoint back to its original driver (or none), last first. Returns the seconds taken.
    func release(_ endpoints: [Endpoint]) throws -> Double {
        try timed {
            for endpoint in endpoints.reversed() {
                try kernel.setDriverOverride(endpoint.address, to: nil)
                try kernel.unbind(endpoint.address, from: "vfio-pci")
                if endpoint.original != nil { try kernel.probe(endpoint.address) }
            }
        }
    }

    /// Whether every endpoint is on `driver` (`nil`: its original one).
    func check(_ endpoints: [Endpoint], on driver: String?, _ when: String) throws {
        for endpoint in endpoints {
            let expected = driver ?? endpoint.original
            let found = kernel.driver(of: endpoint.address)
            try Scenarios.check(found == expected,
                                "\(when): \(endpoint.address) is on \(found ?? "no driver"), expected \(expected ?? "no driver")")
        }
    }

    private func timed(_ body: () throws -> Void) throws -> Double {
        let start = Date()
        do { try body() } catch { throw ScenarioFailure("a bare write failed: \(error)") }
        return Date().timeIntervalSince(start)
    }
}
