import Foundation
import Testing
@testable import API
import Inventory
import Assignments
import Store
import TestSupport
import VFIOCore
import VFIOSimulator

/// Binds and releases devices of a simulated host at random and publishes each change the way the
/// inventory service does (re-read what changed, derive the snapshot from the previous one).
private struct PatchWalk {
    let kernel: SimulatedKernel
    let builder = InventoryBuilder(allowlist: Allowlist([try! AllowSpec(parsing: "all")]))
    var scan: HostScan
    var marks: [PCIAddress: AssignmentMark] = [:]
    var snapshot: InventorySnapshot
    var generator = SystemRandomNumberGenerator()
    let endpoints: [PCIAddress]

    init(topology: String) throws {
        kernel = try SimulatedKernel(source: Fixtures.topologyDirectory + "/" + topology)
        scan = try kernel.scan()
        snapshot = builder.build(scan: scan, backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        endpoints = scan.devices.filter { !InventoryBuilder.isBridgeClass($0) && $0.iommuGroup != nil }.map(\.address)
    }

    /// Moves `address` to vfio-pci or back, as vfiod would (`lease` marks it) or behind vfiod's back.
    mutating func flip(_ address: PCIAddress, lease: Bool) throws {
        let toVFIO = kernel.driver(of: address) != "vfio-pci"
        try kernel.setDriverOverride(address, to: toVFIO ? "vfio-pci" : nil)
        if let driver = kernel.driver(of: address) { try kernel.unbind(address, from: driver) }
        try kernel.probe(address)
        if lease { marks[address] = toVFIO ? AssignmentMark(assignmentID: "asg_\(address)", state: .assigned) : nil }
        publish([address])
    }

    mutating func mark(_ address: PCIAddress, _ mark: AssignmentMark?) {
        marks[address] = mark
        publish([])
    }

    mutating func publish(_ addresses: [PCIAddress]) {
        let changed = kernel.rescan(addresses, updating: &scan)
        snapshot = builder.build(scan: scan, backend: "simulated", generation: snapshot.generation + 1, takenAt: Date(),
                                 scanDuration: 0, assignments: marks, previous: snapshot, changedFacts: changed)
    }

    /// A snapshot of the same inputs built from scratch, with no change list.
    func fullSnapshot() -> InventorySnapshot {
        builder.build(scan: scan, backend: "simulated", generation: snapshot.generation, takenAt: snapshot.takenAt,
                      scanDuration: 0, assignments: marks)
    }
}

struct IncrementalPublishTests {
    @Test func theEncodedInventoryAfterPatchesEqualsAFreshEncoding() throws {
        var walk = try PatchWalk(topology: "gpu-server.json")
        defer { walk.kernel.close() }
        var encoded = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/")
        var derived = 0
        for round in 0..<60 {
            let address = walk.endpoints.randomElement(using: &walk.generator)!
            if round % 3 == 2 {
                walk.mark(address, round % 2 == 0 ? AssignmentMark(assignmentID: "asg_x", state: .binding) : nil)
            } else {
                try walk.flip(address, lease: round % 4 != 0)
            }
            if walk.snapshot.changes != nil { derived += 1 }
            let before = encoded
            encoded = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/", previous: encoded)
            let fresh = EncodedInventory(snapshot: walk.fullSnapshot(), hostRoot: "/")
            // The events found from the change list are those a comparison of every device and group finds.
            let listed = InventoryEvents.drafts(from: before, to: encoded, fullScan: false) { _ in nil }
            let compared = InventoryEvents.drafts(from: before, to: fresh, fullScan: false) { _ in nil }
            #expect(listed.map(\.type) == compared.map(\.type) && listed.map(\.data) == compared.map(\.data))
            #expect(encoded.devices.map(\.bytes) == fresh.devices.map(\.bytes))
            #expect(encoded.devices.map(\.etag) == fresh.devices.map(\.etag))
            #expect(encoded.groups.map(\.bytes) == fresh.groups.map(\.bytes))
            #expect(encoded.host.bytes == fresh.host.bytes)
        }
        #expect(derived == 60)
    }

    /// The redacted copies (spliced from the full bytes) and the ETags and host (made when first asked
    /// for) are what encoding afresh gives: `assignmentId` written as `null` and nothing else moved.
    @Test func redactedCopiesAndLazyETagsEqualAFreshEncoding() throws {
        var walk = try PatchWalk(topology: "gpu-server.json")
        defer { walk.kernel.close() }
        var encoded = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/")
        var leased = 0
        for round in 0..<30 {
            let address = walk.endpoints.randomElement(using: &walk.generator)!
            try walk.flip(address, lease: round % 5 != 0)
            encoded = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/", previous: encoded)
            for (index, device) in walk.snapshot.devices.enumerated() {
                let full = String(decoding: encoded.devices[index].bytes, as: UTF8.self)
                let redacted = encoded.redactedDevice(index)
                let expected = device.assignmentID.map {
                    full.replacingOccurrences(of: "\"assignmentId\":\"\($0)\"", with: "\"assignmentId\":null")
                } ?? full
                #expect(String(decoding: redacted.bytes, as: UTF8.self) == expected)
                if device.assignmentID != nil {
                    leased += 1
                    #expect(redacted.bytes != encoded.devices[index].bytes)
                }
                #expect(redacted.etag == ETag.of(redacted.bytes))
                #expect(encoded.devices[index].etag == ETag.of(Array(full.utf8)))
            }
            #expect(encoded.host.bytes == InventoryJSON.host(walk.snapshot, hostRoot: "/"))
            #expect(encoded.host.etag == ETag.of(encoded.host.bytes))
        }
        #expect(leased > 0)
    }

    @Test func anEncodingFromAnOlderGenerationComparesEverything() throws {
        var walk = try PatchWalk(topology: "workstation.json")
        defer { walk.kernel.close() }
        let old = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/")
        for address in walk.endpoints.prefix(3) { try walk.flip(address, lease: true) }
        // Generations 2 and 3 were never encoded: the change list of 4 is not relative to `old`.
        let encoded = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/", previous: old)
        let fresh = EncodedInventory(snapshot: walk.snapshot, hostRoot: "/")
        #expect(encoded.devices.map(\.bytes) == fresh.devices.map(\.bytes))
        #expect(encoded.groups.map(\.bytes) == fresh.groups.map(\.bytes))
    }

    @Test func driftSeenInAPatchIsAuditedAsAFullComparisonWould() throws {
        let directory = try TemporaryDirectory(prefix: "drift")
        var walk = try PatchWalk(topology: "gpu-server.json")
        defer { walk.kernel.close() }
        let incrementalDatabase = try Database(path: directory.path + "/incremental.db")
        let fullDatabase = try Database(path: directory.path + "/full.db")
        for database in [incrementalDatabase, fullDatabase] { _ = try Migrator().apply(to: database) }
        let incremental = DriftObserver(database: incrementalDatabase)
        let full = DriftObserver(database: fullDatabase)
        func observe() {
            incremental.observe(walk.snapshot)
            full.observe(walk.fullSnapshot())
        }
        observe()
        let endpoints = walk.endpoints
        for round in 0..<40 {
            // Most moves are vfiod's own (marked); every fifth happens behind its back.
            try walk.flip(endpoints[round % endpoints.count], lease: round % 5 != 0)
            #expect(walk.snapshot.changes != nil)
            observe()
        }
        let query = AuditQuery(action: "device.driver_changed_outside")
        let seen = try AuditLog.list(query, in: incrementalDatabase).map { "\($0.entry.device ?? "") \($0.entry.after?["driver"] ?? "")" }
        let expected = try AuditLog.list(query, in: fullDatabase).map { "\($0.entry.device ?? "") \($0.entry.after?["driver"] ?? "")" }
        #expect(!expected.isEmpty)
        #expect(seen == expected)
    }
}
