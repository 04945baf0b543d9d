import Foundation
import TestSupport
import VFIOCore
import VFIOSimulator

/// A host for resets: a function with FLR alone behind its root port; two single-function groups sharing
/// one bus with no function reset (a hot reset takes both); a NIC on a host driver behind its own port;
/// and an NVMe controller with only a hot reset, alone behind its port.
func resetHost() -> HostSpec {
    let port1 = FakeSysfs.device("0000:00:01.0", 0x8086, 0x7ab8, 0x060400, driver: "pcieport", group: 20)
    var flr = FakeSysfs.device("0000:01:00.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 21, parent: "0000:00:01.0")
    flr.resetMethods = ["flr", "bus"]
    let port2 = FakeSysfs.device("0000:00:02.0", 0x8086, 0x7ab9, 0x060400, driver: "pcieport", group: 22)
    var left = FakeSysfs.device("0000:02:00.0", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 23, parent: "0000:00:02.0")
    left.resetMethods = []
    var right = FakeSysfs.device("0000:02:00.1", 0x1234, 0x11e8, 0x00ff00, driver: nil, group: 24, parent: "0000:00:02.0")
    right.resetMethods = []
    let port3 = FakeSysfs.device("0000:00:03.0", 0x8086, 0x7aba, 0x060400, driver: "pcieport", group: 25)
    var nic = FakeSysfs.device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, driver: "e1000e", group: 26, parent: "0000:00:03.0")
    nic.resetMethods = ["flr", "bus"]
    let port4 = FakeSysfs.device("0000:00:04.0", 0x8086, 0x7abb, 0x060400, driver: "pcieport", group: 27)
    var nvme = FakeSysfs.device("0000:04:00.0", 0x1b36, 0x0010, 0x010802, driver: "nvme", group: 28, parent: "0000:00:04.0")
    nvme.resetMethods = []
    return HostSpec(kernelRelease: "6.12.0-reset", devices: [port1, flr, port2, left, right, port3, nic, port4, nvme])
}

extension TestService {
    /// Leases `target` (`["device": …]` or `["group": …]`) with `extra` body members and waits for the bind.
    func lease(_ target: [String: Any], _ extra: [String: Any] = [:]) async throws -> String {
        var body: [String: Any] = ["holder": ["id": "vm-r", "tenant": "t1"], "ttlSeconds": 600]
        for (key, value) in target { body[key] = value }
        for (key, value) in extra { body[key] = value }
        let (created, assignment) = try await send("POST", "/v1/assignments", json: body)
        guard created.status == 202, let id = assignment["id"] as? String else {
            throw FixtureError("lease refused: \(created.status) \(created.bodyText)")
        }
        let bind = try await finish(operation: created.header("Operation-Location"))
        guard bind["state"] as? String == "succeeded" else { throw FixtureError("bind failed: \(bind)") }
        return id
    }

    /// Releases `id` and returns the finished release operation.
    func release(_ id: String) async throws -> [String: Any] {
        let (released, _) = try await send("DELETE", "/v1/assignments/\(id)")
        guard released.status == 202 else { throw FixtureError("release refused: \(released.status) \(released.bodyText)") }
        return try await finish(operation: released.header("Operation-Location"))
    }

    /// The device's inventory `state`.
    func deviceState(_ address: String) async throws -> String? {
        try await json("/v1/devices/\(address)")["state"] as? String
    }
}
