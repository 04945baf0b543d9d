import Testing
import Foundation
import Inventory
import TestSupport
import VFIOCore
import VFIOSimulator

/// A small deterministic generator (SplitMix64), so a failing sequence can be replayed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random binds, releases and lease-mark changes on a simulated host, each published the way the
/// inventory service does it: re-read what changed, derive the snapshot from the previous one.
struct IncrementalHostWalk {
    let kernel: SimulatedKernel
    let builder = InventoryBuilder(allowlist: Allowlist([try! AllowSpec(parsing: "all")]))
    var scan: HostScan
    var marks: [PCIAddress: AssignmentMark] = [:]
    var snapshot: InventorySnapshot
    var random: SeededRandom
    let endpoints: [PCIAddress]

    init(topology: String, seed: UInt64) throws {
        kernel = try SimulatedKernel(source: Fixtures.topologyDirectory + "/" + topology)
        scan = try kernel.scan()
        snapshot = builder.build(scan: scan, backend: "simulated", generation: 1, takenAt: Date(), scanDuration: 0)
        endpoints = scan.devices.filter { !InventoryBuilder.isBridgeClass($0) && $0.iommuGroup != nil }.map(\.address)
        random = SeededRandom(seed: seed)
    }

    /// One random change, published incrementally; returns the snapshot before it.
    mutating func step() throws -> InventorySnapshot {
        var touched: [PCIAddress] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let address = endpoints.randomElement(using: &random)!
            switch Int.random(in: 0..<6, using: &random) {
            case 0, 1:
                let toVFIO = kernel.driver(of: address) != "vfio-pci"
                try kernel.setDriverOverride(address, to: toVFIO ? "vfio-pci" : nil)
                if let driver = kernel.driver(of: address) { try kernel.unbind(address, from: driver) }
                try kernel.probe(address)
                touched.append(address)
            case 2:
                let state: DeviceState = [.binding, .assigned, .releasing].randomElement(using: &random)!
                marks[address] = AssignmentMark(assignmentID: "asg_\(Int.random(in: 0..<4, using: &random))", state: state)
            case 3:
                marks[address] = AssignmentMark(assignmentID: nil, state: .quarantined, reason: "reset failed")
            case 4:
                marks[address] = nil
            default:
                touched.append(address)  // re-read with nothing changed
            }
        }
        if Int.random(in: 0..<8, using: &random) == 0 {
            marks[PCIAddress("0000:ee:00.0")!] = AssignmentMark(assignmentID: "asg_gone", state: .assigned)  // not on this host
        }
        let changed = kernel.rescan(touched, updating: &scan)
        let previous = snapshot
        snapshot = builder.build(scan: scan, backend: "simulated", generation: previous.generation + 1, takenAt: Date(),
                                 scanDuration: 0, assignments: marks, previous: previous, changedFacts: changed)
        return previous
    }

    /// What a full build of the same inputs makes.
    func fullBuild() -> InventorySnapshot {
        builder.build(scan: scan, backend: "simulated", generation: snapshot.generation, takenAt: snapshot.takenAt,
                      scanDuration: 0, assignments: marks)
    }
}

struct IncrementalBuildTests {
    @Test(arguments: [("gpu-server.json", UInt64(1)), ("workstation.json", 2), ("qemu-lab.json", 3)])
    func anIncrementalSnapshotEqualsAFullBuildOfTheSameInputs(topology: String, seed: UInt64) throws {
        var walk = try IncrementalHostWalk(topology: topology, seed: seed)
        defer { walk.kernel.close() }
        var incremental = 0
        for _ in 0..<120 {
            let previous = try walk.step()
            let snapshot = walk.snapshot
            let full = walk.fullBuild()
            #expect(snapshot.devices == full.devices)
            #expect(snapshot.groups == full.groups)
            #expect(snapshot.stateCounts == full.stateCounts)
            #expect(snapshot.host == full.host)
            #expect(snapshot.notes == full.notes)
            // The re-read scan is what a full scan reads now.
            let rescanned = try walk.kernel.scan()
            #expect(walk.scan.devices == rescanned.devices)
            #expect(walk.scan.host.vfioGroupNodes == rescanned.host.vfioGroupNodes)
            // The change list names exactly the devices and groups that differ from the previous snapshot.
            if let changes = snapshot.changes {
                incremental += 1
                #expect(changes.baseGeneration == previous.generation)
                #expect(changes.devices == snapshot.devices.indices.filter { snapshot.devices[$0] != previous.devices[$0] })
                #expect(changes.groups == snapshot.groups.indices.filter { snapshot.groups[$0] != previous.groups[$0] })
            }
            for device in snapshot.devices {
                #expect(snapshot.device(device.address) == device)
            }
        }
        #expect(incremental > 100, "the walk should publish incrementally, not fall back to full builds")
    }
}
