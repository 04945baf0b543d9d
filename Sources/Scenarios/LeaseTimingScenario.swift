import Foundation
import TestSupport
import VFIOCore

/// `lease-timing`: the latency of one lease and one release through vfiod, beside the same sysfs writes
/// done by hand. For the lone edu (no driver), the e1000e and the bridge group (e1000 + edu): first
/// `timingCycles` bare cycles with no vfiod running, then as many leases through vfiod (traced with
/// `VFIOD_TRACE_FILE`, so the
/// time splits into phases): POST, `GET Operation-Location?wait=30` until final, DELETE, the same, on one
/// kept-alive connection, each timed from sending its request to holding the answer (``TimedClient``).
/// Writes the table (medians) to `lease-timing.txt` and every cycle to `lease-timing.tsv` in the
/// results directory, and prints the table as notes. It checks that every bind and release succeeded and
/// left the drivers where they belong; it asserts nothing about time.
enum LeaseTimingScenario {
    /// One thing to lease: its request body's target and its endpoints.
    private struct Target {
        let name: String
        let request: JSONObject
        let endpoints: [BareWrites.Endpoint]
    }

    static func run(_ context: ScenarioContext) throws {
        let targets = try findTargets(context)
        context.stopVFIOD()
        let bare = try BareWrites(context)
        let cycles = context.environment.timingCycles
        var timings: [String: LeaseTiming] = [:]
        for target in targets {
            var bind = LeaseTiming(name: target.name + " bind"), release = LeaseTiming(name: target.name + " release")
            for _ in 0..<cycles {
                bind.bare.append(try bare.bind(target.endpoints))
                try bare.check(target.endpoints, on: "vfio-pci", "after a bare bind")
                release.bare.append(try bare.release(target.endpoints))
                try bare.check(target.endpoints, on: nil, "after a bare release")
            }
            timings[bind.name] = bind
            timings[release.name] = release
        }
        let traceFile = context.directory + "/trace.txt"
        let api = TimedClient(try context.startVFIOD(environment: ["VFIOD_TRACE_FILE": traceFile]))
        var ids: [String: [String]] = [:]
        for target in targets {
            for _ in 0..<cycles {
                let (bind, release) = try leaseCycle(api, target, bare)
                timings[target.name + " bind"]!.operations.append(bind.timed)
                timings[target.name + " release"]!.operations.append(release.timed)
                ids[target.name + " bind", default: []].append(bind.id)
                ids[target.name + " release", default: []].append(release.id)
            }
        }
        let marks = LeaseTiming.marks(in: (try? String(contentsOfFile: traceFile, encoding: .utf8)) ?? "")
        for (name, operations) in ids {
            for (index, id) in operations.enumerated() {
                let found = marks[id] ?? [:]
                let missing = LeaseTiming.requiredMarks.filter { found[$0] == nil }
                try check(missing.isEmpty, "\(name) \(id): vfiod's trace lacks \(missing.joined(separator: ", "))")
                timings[name]!.operations[index].marks = found
            }
        }
        let ordered = targets.flatMap { [$0.name + " bind", $0.name + " release"] }.compactMap { timings[$0] }
        try report(context, ordered, cycles: cycles)
    }

    /// The lone edu, the e1000e, and the bridge group, from a first vfiod's inventory.
    private static func findTargets(_ context: ScenarioContext) throws -> [Target] {
        let inventory = try LabInventory(try context.startVFIOD())
        func endpoint(_ device: JSONObject) throws -> BareWrites.Endpoint {
            guard let address = PCIAddress(device.string("address")) else { throw ScenarioFailure("bad address \(device.string("address"))") }
            return .init(address: address, original: device.optionalString("driver"))
        }
        let edu = try inventory.alone(LabDevices.edu), e1000e = try inventory.alone(LabDevices.e1000e)
        let e1000 = try inventory.shared(LabDevices.e1000)
        guard let group = e1000.int("iommuGroup") else { throw ScenarioFailure("the e1000 has no group") }
        let members = inventory.groupMembers(of: e1000).compactMap { inventory.device($0) }.filter { $0["isBridge"] as? Bool != true }
        return [
            Target(name: "edu", request: ["device": edu.string("address")], endpoints: [try endpoint(edu)]),
            Target(name: "e1000e", request: ["device": e1000e.string("address")], endpoints: [try endpoint(e1000e)]),
            Target(name: "e1000+edu", request: ["group": group], endpoints: try members.map(endpoint)),
        ]
    }

    /// One lease and its release, each timed from the request to holding the finished operation.
    private static func leaseCycle(_ api: TimedClient, _ target: Target, _ bare: BareWrites)
        throws -> (bind: (id: String, timed: TimedOperation), release: (id: String, timed: TimedOperation)) {
        var request: JSONObject = ["holder": ["id": "timing-vm", "tenant": "lab"], "ttlSeconds": 600]
        request.merge(target.request) { _, new in new }
        let body = Array(try JSONSerialization.data(withJSONObject: request))
        let created = try api.exchange("POST", "/v1/assignments", body: body)
        let (bound, held) = try api.follow(try location(created.response, "POST /v1/assignments \(target.request)"))
        try check(bound.string("state") == "succeeded", "bind of \(target.name) ended \(bound.string("state")): \(bound.optionalString("error") ?? "")")
        let id = bound.string("assignment")
        let deleted = try api.exchange("DELETE", "/v1/assignments/\(id)")
        let (released, releaseHeld) = try api.follow(try location(deleted.response, "DELETE /v1/assignments/\(id)"))
        try check(released.string("state") == "succeeded", "release of \(target.name) ended \(released.string("state")): \(released.optionalString("error") ?? "")")
        try bare.check(target.endpoints, on: nil, "after a release through vfiod")
        return ((bound.string("id"), TimedOperation(sent: created.sent, held: held, operation: bound)),
                (released.string("id"), TimedOperation(sent: deleted.sent, held: releaseHeld, operation: released)))
    }

    /// The `Operation-Location` of a 202.
    private static func location(_ response: TestResponse, _ what: String) throws -> String {
        guard response.status == 202, let location = response.header("Operation-Location") else {
            throw ScenarioFailure("\(what) → \(response.status) \(response.bodyText.prefix(300))")
        }
        return location
    }

    /// The table to the notes and `lease-timing.txt`, every cycle to `lease-timing.tsv` (results directory).
    private static func report(_ context: ScenarioContext, _ timings: [LeaseTiming], cycles: Int) throws {
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        let table = ["lease-timing: \(cycles) cycles per target, medians in ms (guest load \(load)); added = wall - bare",
                     LeaseTiming.header] + timings.map(\.row)
        for line in table { context.note(line) }
        guard let directory = context.environment.resultsDirectory else { return }
        let raw = ["target\tcycle\twall\tbare\t" + LeaseTiming.phaseNames.joined(separator: "\t") + "\tin-steps"]
            + timings.flatMap(\.rawLines)
        do {
            try (table.joined(separator: "\n") + "\n").write(toFile: directory + "/lease-timing.txt", atomically: false, encoding: .utf8)
            try (raw.joined(separator: "\n") + "\n").write(toFile: directory + "/lease-timing.tsv", atomically: false, encoding: .utf8)
        } catch {
            throw ScenarioFailure("cannot write the timings into \(directory): \(error)")
        }
    }
}
