import Foundation
import Testing
import TestSupport

/// The real machines' snapshots (ghw, Apache-2.0), this machine's own /sys and every example topology,
/// served over HTTP: nothing crashes, everything present is reported, and what is missing is said.
@Suite struct RealDataEndToEndTests {
    static let snapshotCounts: [String: Int] = [
        "linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d": 23,
        "linux-amd64-8581cf3a529e5d8b97ea876eade2f60d": 82,
        "linux-amd64-accel-nvidia": 29,
        "linux-amd64-61797caf7c0b6bca1725ad7975ed4773": 43,
        "linux-arm64-c288e0776090cd558ef793b2a4e61939": 4,
    ]

    @Test(arguments: snapshotCounts.keys.sorted())
    func aRealMachinesSnapshotIsServedWhole(_ name: String) async throws {
        let tree = try Fixtures.unpackSnapshot(name)
        defer { tree.remove() }
        try await withService(try await TestService(simulate: tree.path)) { service in
            let devices = try await service.items("/v1/devices?pageSize=7")
            #expect(devices.count == Self.snapshotCounts[name])
            let host = try await service.json("/v1/host")
            #expect(host["backend"] as? String == "simulated")
            let groups = try await service.items("/v1/groups")
            let grouped = devices.filter { !($0["iommuGroup"] is NSNull) }
            #expect(Set(groups.flatMap { $0["devices"] as! [String] }) == Set(grouped.map { $0["address"] as! String }))
            if grouped.isEmpty {
                #expect(host["iommuPresent"] as? Bool == false)
                #expect(devices.allSatisfy { $0["state"] as? String != "available" },
                        "without an IOMMU nothing can be lent")
            }
            for device in devices {
                let address = device["address"] as! String
                let one = try await service.json("/v1/devices/\(address)")
                #expect(one["address"] as? String == address)
            }
        }
    }

    @Test func theLaptopSnapshotDerivesGroupsFromDeviceLinksAndSaysSo() async throws {
        let tree = try Fixtures.unpackSnapshot("linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d")
        defer { tree.remove() }
        try await withService(try await TestService(simulate: tree.path)) { service in
            let host = try await service.json("/v1/host")
            let notes = try #require(host["notes"] as? [String])
            #expect(notes.contains { $0.contains("iommu_groups") }, "\(notes)")
            let groups = try await service.items("/v1/groups")
            #expect(!groups.isEmpty)
            let protected = try await service.items("/v1/devices?state=protected")
            #expect(!protected.isEmpty, "the snapshot has a mounted NVMe and a console GPU")
        }
    }

    @Test func thisMachinesOwnSysIsReadOnlyAndWhole() async throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices")
        try await withService(try await TestService(hostRoot: "/", allow: [])) { service in
            let devices = try await service.items("/v1/devices")
            #expect(devices.count == entries.count)
            #expect(Set(devices.map { $0["address"] as! String }) == Set(entries))
            #expect(devices.allSatisfy { ["host", "protected"].contains($0["state"] as? String) },
                    "with an empty allowlist nothing is available")
            let host = try await service.json("/v1/host")
            #expect(host["backend"] as? String == "linux")
            let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
            #expect(host["kernelRelease"] as? String == release.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test(arguments: ["workstation.json", "gpu-server.json", "stress-4096.json"])
    func everyExampleTopologyIsServed(_ file: String) async throws {
        let path = Fixtures.topologyDirectory + "/" + file
        try await withService(try await TestService(simulate: path)) { service in
            let host = try await service.json("/v1/host")
            let counts = try #require(host["counts"] as? [String: Any])
            let devices = try await service.items("/v1/devices")
            #expect(devices.count == counts["devices"] as? Int)
            let byState = try #require(counts["byState"] as? [String: Int])
            #expect(byState["available", default: 0] > 0)
            if file == "stress-4096.json" { #expect(devices.count == 4096) }
            if file != "stress-4096.json" {
                #expect(byState["protected", default: 0] > 0, "the example has a console GPU and a root disk")
            }
        }
    }
}
