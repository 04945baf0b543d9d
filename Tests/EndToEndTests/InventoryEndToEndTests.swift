import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// A host with one of everything the inventory must tell apart.
func richHost() -> HostSpec {
    var gpu = FakeSysfs.device("0000:00:02.0", 0x8086, 0xa780, 0x030000, driver: "i915", group: 0)
    gpu.bootVGA = true
    gpu.resetMethods = ["flr"]
    var bridge = FakeSysfs.device("0000:00:1c.0", 0x8086, 0x7ab8, 0x060400, driver: "pcieport", group: 1)
    bridge.numaNode = 0
    let behindBridgeNIC = FakeSysfs.device("0000:05:00.0", 0x8086, 0x100e, 0x020000, driver: "e1000", group: 1, parent: "0000:00:1c.0")
    let behindBridgeEdu = FakeSysfs.device("0000:05:01.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 1, parent: "0000:00:1c.0")
    var nvme = FakeSysfs.device("0000:02:00.0", 0x144d, 0xa80a, 0x010802, driver: "nvme", group: 2)
    nvme.blockDevices = [.init(name: "nvme0n1", mountPoint: "/")]
    nvme.serialNumber = 0x0025_385a_21b0_417c
    var uplink = FakeSysfs.device("0000:03:00.0", 0x8086, 0x125c, 0x020000, driver: "igc", group: 3)
    uplink.netInterfaces = [.init(name: "enp3s0", defaultRoute: true)]
    var pf = FakeSysfs.device("0000:04:00.0", 0x8086, 0x1593, 0x020000, driver: "ice", group: 4)
    pf.sriov = .init(totalVFs: 8, numVFs: 2)
    pf.numaNode = 1
    var vf0 = FakeSysfs.device("0000:04:01.0", 0x8086, 0x1889, 0x020000, driver: "iavf", group: 5)
    vf0.physfn = pf.address
    var vf1 = FakeSysfs.device("0000:04:01.1", 0x8086, 0x1889, 0x020000, driver: "vfio-pci", group: 6)
    vf1.physfn = pf.address
    let orphan = FakeSysfs.device("0000:06:00.0", 0x1af4, 0x1041, 0x020000, driver: nil, group: nil)
    return HostSpec(kernelRelease: "6.12.0-test", bootID: "6a1f0e0c-0000-4000-8000-00000000beef",
                    devices: [gpu, bridge, behindBridgeNIC, behindBridgeEdu, nvme, uplink, pf, vf0, vf1, orphan])
}

@Suite struct InventoryEndToEndTests {
    @Test func aFakeTreeInTheKernelsLayoutIsReportedFieldByField() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            let devices = try await service.items("/v1/devices")
            let byAddress = Dictionary(uniqueKeysWithValues: devices.map { ($0["address"] as! String, $0) })
            #expect(byAddress.count == 10)

            let gpu = try #require(byAddress["0000:00:02.0"])
            #expect(gpu["vendorId"] as? String == "8086")
            #expect(gpu["classCode"] as? String == "030000")
            #expect(gpu["bootVga"] as? Bool == true)
            #expect(gpu["state"] as? String == "protected")
            #expect(gpu["resetMethods"] as? [String] == ["flr"])
            #expect(gpu["className"] as? String != nil, "pci.ids names the class")

            let nvme = try #require(byAddress["0000:02:00.0"])
            #expect(nvme["state"] as? String == "protected")
            #expect((nvme["stateReason"] as? String)?.contains("nvme0n1") == true)
            #expect(nvme["serialNumber"] as? String == "00-25-38-5a-21-b0-41-7c")

            let uplink = try #require(byAddress["0000:03:00.0"])
            #expect(uplink["state"] as? String == "protected")
            #expect((uplink["stateReason"] as? String)?.contains("default route") == true)

            let pf = try #require(byAddress["0000:04:00.0"])
            #expect(pf["totalVfs"] as? Int == 8)
            #expect(pf["numVfs"] as? Int == 2)
            #expect(pf["virtfns"] as? [String] == ["0000:04:01.0", "0000:04:01.1"])
            #expect(pf["numaNode"] as? Int == 1)
            #expect(byAddress["0000:04:01.0"]?["physfn"] as? String == "0000:04:00.0")

            let vf1 = try #require(byAddress["0000:04:01.1"])
            #expect(vf1["driver"] as? String == "vfio-pci")
            #expect(vf1["vfioGroupPresent"] as? Bool == true)
            #expect(vf1["state"] as? String == "available")

            let bridge = try #require(byAddress["0000:00:1c.0"])
            #expect(bridge["isBridge"] as? Bool == true)
            #expect(bridge["state"] as? String == "host")

            let edu = try #require(byAddress["0000:05:01.0"])
            #expect(edu["driver"] is NSNull)
            #expect(edu["state"] as? String == "available")

            let orphan = try #require(byAddress["0000:06:00.0"])
            #expect(orphan["iommuGroup"] is NSNull)
            #expect(orphan["state"] as? String == "host")

            let group = try await service.json("/v1/groups/1")
            #expect(group["devices"] as? [String] == ["0000:00:1c.0", "0000:05:00.0", "0000:05:01.0"])
            #expect(group["viable"] as? Bool == false)
            let blockers = try #require(group["blockers"] as? [[String: Any]])
            #expect(blockers.count == 1)
            #expect(blockers.first?["device"] as? String == "0000:05:00.0")
            #expect(blockers.first?["driver"] as? String == "e1000")
            #expect(group["assignable"] as? Bool == true)

            let host = try await service.json("/v1/host")
            #expect(host["backend"] as? String == "linux")
            #expect(host["kernelRelease"] as? String == "6.12.0-test")
            #expect(host["bootId"] as? String == "6a1f0e0c-0000-4000-8000-00000000beef")
            #expect(host["iommuPresent"] as? Bool == true)
            let counts = try #require(host["counts"] as? [String: Any])
            #expect(counts["devices"] as? Int == 10)
            #expect(counts["groups"] as? Int == 7)
        }
    }

    /// A host that cannot lend anything says why, and what to do, in `/v1/host`'s notes; one that can says nothing.
    @Test func aHostThatCannotLendSaysWhyInItsNotes() async throws {
        let nic = FakeSysfs.device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, driver: "e1000e", group: nil)
        let bare = HostSpec(iommu: false, vfioPCILoaded: false, devices: [nic])
        try await withService(try await TestService(host: bare, allow: [])) { service in
            let host = try JSONSerialization.jsonObject(with: Data(try await service.get("/v1/host").body)) as? [String: Any]
            let notes = host?["notes"] as? [String] ?? []
            #expect(notes.contains { $0.hasPrefix("no IOMMU") && $0.contains("intel_iommu=on") }, "\(notes)")
            #expect(notes.contains { $0.contains("modprobe vfio-pci") }, "\(notes)")
            #expect(notes.contains { $0.hasPrefix("no device is allowed") && $0.contains("--allow") }, "\(notes)")
        }
        try await withService(try await TestService(host: richHost(), allow: ["all"])) { service in
            let host = try JSONSerialization.jsonObject(with: Data(try await service.get("/v1/host").body)) as? [String: Any]
            #expect(host?["notes"] as? [String] == [], "a host that can lend has no advice")
        }
    }

    @Test func filtersNarrowTheListAndPagesWalkItInOrder() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            let intel = try await service.items("/v1/devices?vendorId=8086")
            #expect(intel.count == 7)
            let nics = try await service.items("/v1/devices?classCode=02")
            #expect(nics.count == 6)
            let unbound = try await service.items("/v1/devices?driver=none")
            #expect(unbound.map { $0["address"] as! String } == ["0000:05:01.0", "0000:06:00.0"])
            let groupOne = try await service.items("/v1/devices?iommuGroup=1")
            #expect(groupOne.count == 3)
            let available = try await service.items("/v1/devices?state=available")
            #expect(available.allSatisfy { $0["state"] as? String == "available" })
            let protected = try await service.items("/v1/devices?state=protected&classCode=0108")
            #expect(protected.map { $0["address"] as! String } == ["0000:02:00.0"])

            let all = try await service.items("/v1/devices").map { $0["address"] as! String }
            let paged = try await service.items("/v1/devices?pageSize=3").map { $0["address"] as! String }
            #expect(paged == all)
            #expect(all == all.sorted())
            let first = try await service.json("/v1/devices?pageSize=3")
            #expect((first["items"] as? [Any])?.count == 3)
            #expect(first["nextPageToken"] is String)
            let last = try await service.json("/v1/devices?pageSize=10")
            #expect(last["nextPageToken"] is NSNull)

            let viable = try await service.items("/v1/groups?viable=false")
            #expect(viable.map { $0["id"] as! Int } == [0, 1, 2, 3, 4, 5])
            let groupsPaged = try await service.items("/v1/groups?pageSize=2").map { $0["id"] as! Int }
            #expect(groupsPaged == [0, 1, 2, 3, 4, 5, 6])
        }
    }

    @Test func etagsAnswerConditionalRequestsAndChangeWithTheContent() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            for path in ["/v1/devices", "/v1/devices/0000:04:00.0", "/v1/groups", "/v1/groups/1", "/v1/host"] {
                let first = try await service.get(path)
                let etag = try #require(first.header("ETag"), "\(path) has an ETag")
                let again = try await service.get(path, headers: [("If-None-Match", etag)])
                #expect(again.status == 304, "\(path)")
                #expect(again.body.isEmpty)
                let stale = try await service.get(path, headers: [("If-None-Match", "\"0000000000000000\"")])
                #expect(stale.status == 200)
            }
            let before = try #require(try await service.get("/v1/devices").header("ETag"))
            let head = try await service.request("HEAD", "/v1/devices")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("ETag") == before)
            _ = await service.service.inventory.refresh()
            let same = try await service.get("/v1/devices").header("ETag")
            #expect(same == before, "a refresh that changed nothing keeps the ETag")
        }
    }

    @Test func aRefreshSeesDriversMovedInTheTree() async throws {
        let tree = try FakeSysfs.make(richHost())
        defer { tree.remove() }
        try await withService(try await TestService(hostRoot: tree.path)) { service in
            let before = try await service.json("/v1/devices/0000:05:01.0")
            #expect(before["driver"] is NSNull)
            try SysfsTreeBuilder(root: tree.path).setDriver("vfio-pci", for: PCIAddress("0000:05:01.0")!)
            let snapshot = await service.service.inventory.refresh()
            #expect(snapshot.generation >= 2)
            let after = try await service.json("/v1/devices/0000:05:01.0")
            #expect(after["driver"] as? String == "vfio-pci")
        }
    }
}
