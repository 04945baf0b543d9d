import Foundation
import Testing
import Store
import TestSupport
import VFIOCore
import VFIOSimulator

/// The database on a real file system that fills up: a small tmpfs mounted by the test (the tests run as
/// root, as vfiod does).
@Suite(.serialized) struct StorageFaultTests {
    static let nic = PCIAddress("0000:06:00.0")!

    /// A bind caught by a full disk half-way: no kernel write waits for a commit, so it makes every write,
    /// then pauses at its end's commit with every device on vfio-pci; writes answer `507 storage_full`,
    /// reads and `/readyz` say why, and once space is freed the operation is resolved by itself from the
    /// kernel's state (here: completed, every endpoint reached vfio-pci), audited, chain intact.
    @Test func aFullDiskPausesABindWithoutStrandingADeviceAndItResolvesOnceSpaceReturns() async throws {
        try await Self.withDiskFilledDuringAnUnbind { service, kernel in
            try kernel.injectFault(.unbindBlocks(Self.nic))
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm", "tenant": "t"]])
            #expect(created.response.status == 202)
            return try #require(created.response.header("Operation-Location"))
        } paused: { service, kernel, paused in
            #expect(paused["state"] as? String == "running")
            #expect(kernel.driver(of: Self.nic) == "vfio-pci", "the unbound device was probed all the same: never driverless")
            let refused = try await service.send("POST", "/v1/assignments", json: ["group": 10, "holder": ["id": "b", "tenant": "t"]])
            #expect(refused.response.status == 507, "\(refused.body)")
            #expect(refused.body["code"] as? String == "storage_full")
            #expect(refused.response.header("Retry-After") != nil)
            let ready = try await service.get("/readyz")
            #expect(ready.status == 503)
            #expect(ready.bodyText.contains("file system is full"), "\(ready.bodyText)")
            #expect(try await service.get("/v1/devices").status == 200, "reads go on")
        } resolved: { service, done in
            #expect(done["state"] as? String == "completed_on_recovery", "\(done)")
            #expect(done["pausedReason"] is NSNull)
            let id = done["assignment"] as? String ?? "?"
            let (_, assignment) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(assignment["state"] as? String == "active", "\(assignment)")
            #expect(try await service.get("/readyz").status == 200, "a write committed: ready again")
            let (_, audit) = try await service.send("GET", "/v1/audit?assignment=\(id)&action=operation.interrupted")
            let interrupted = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["error"] as? String }
            #expect(interrupted.contains { $0.contains("refused its journal") }, "\(audit)")
            // Given back, so that the devices end as they began.
            let released = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(try await service.finish(operation: released.response.header("Operation-Location"))["state"] as? String == "succeeded")
        }
    }

    /// A bind that fails after its unbind (the probe binds nothing) while the disk is full: its undo gives
    /// the device its driver back without waiting for the journal, then the operation pauses; once space is
    /// freed it is rolled back.
    @Test func aFailedBindIsUndoneOnAFullDiskWithoutStrandingTheDevice() async throws {
        try await Self.withDiskFilledDuringAnUnbind { service, kernel in
            try kernel.injectFault(.unbindBlocks(Self.nic))
            try kernel.injectFault(.probeLeavesDriverless(Self.nic))
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm", "tenant": "t"]])
            return try #require(created.response.header("Operation-Location"))
        } paused: { _, kernel, paused in
            #expect(kernel.driver(of: Self.nic) == "e1000", "the undo bound the original driver all the same: \(paused)")
        } resolved: { _, done in
            #expect(done["state"] as? String == "rolled_back", "\(done)")
        }
    }

    /// A release caught by a full disk after it unbound a device from vfio-pci: the device is probed back to
    /// its driver all the same, the release pauses, and finishes by itself once space is freed.
    @Test func aFullDiskPausesAReleaseWithTheDeviceBackOnItsDriverAndItFinishesOnceSpaceReturns() async throws {
        try await Self.withDiskFilledDuringAnUnbind { service, kernel in
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm", "tenant": "t"]])
            #expect(try await service.finish(operation: created.response.header("Operation-Location"))["state"] as? String == "succeeded")
            let id = try #require(created.body["id"] as? String)
            try kernel.injectFault(.unbindBlocks(Self.nic))
            let released = try await service.send("DELETE", "/v1/assignments/\(id)")
            return try #require(released.response.header("Operation-Location"))
        } paused: { service, kernel, paused in
            #expect(kernel.driver(of: Self.nic) == "e1000", "the unbound device went back to its driver all the same")
            let renew = try await service.send("POST", "/v1/assignments/\(paused["assignment"] as? String ?? "?")/renew", json: ["ttlSeconds": 60])
            // Renewing a releasing assignment is refused whatever the disk: 409, before any write.
            #expect(renew.response.status == 409 && renew.body["code"] as? String == "invalid_state", "\(renew.body)")
        } resolved: { service, done in
            #expect(["completed_on_recovery", "succeeded"].contains(done["state"] as? String), "\(done)")
            let (_, assignment) = try await service.send("GET", "/v1/assignments/\(done["assignment"] as? String ?? "?")")
            #expect(assignment["state"] as? String == "released", "\(assignment)")
        }
    }

    /// Serves the lease host with its database on a small file system; `start` begins an operation whose
    /// unbind of the e1000 blocks and returns its location. While the unbind is held the disk is filled; then
    /// the unbind goes on, the operation pauses (`paused` looks at it), space is freed, and `resolved` gets
    /// the finished operation, after which both devices must be back as they were and the chain intact.
    static func withDiskFilledDuringAnUnbind(
        start: (TestService, SimulatedKernel) async throws -> String,
        paused check: (TestService, SimulatedKernel, [String: Any]) async throws -> Void,
        resolved: (TestService, [String: Any]) async throws -> Void
    ) async throws {
        let disk = try SmallFileSystem(megabytes: 12)
        defer { disk.unmount() }
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, databaseDirectory: disk.path)
        try await withService(service) { service in
            let kernel = try #require(service.simulator)
            let operation = try await start(service, kernel)
            kernel.waitForBlockedUnbind(of: nic)
            // Fill the file system, then the database's own log, until SQLite itself is refused.
            try disk.fill(database: disk.path + "/vfiod.db")
            try kernel.releaseBlockedUnbinds()
            let paused = try await pausedOperation(service, operation)
            #expect((paused["pausedReason"] as? String)?.contains("full") == true, "\(paused)")
            try await check(service, kernel, paused)
            try disk.freeSpace()
            try await resolved(service, try await service.finish(operation: operation))
            #expect(TreeState(kernel, "0000:06:00.0") == TreeState(driver: "e1000", driverOverride: nil, groupNode: false))
            #expect(TreeState(kernel, "0000:06:01.0").driverOverride == nil)
            let (_, verify) = try await service.send("GET", "/v1/audit/verify")
            #expect(verify["ok"] as? Bool == true, "\(verify)")
        }
    }

    /// Long-polls the operation (each poll wakes when it pauses) until it says it is paused.
    static func pausedOperation(_ service: TestService, _ location: String) async throws -> [String: Any] {
        for _ in 0..<60 {
            let (_, operation) = try await service.send("GET", location + "?wait=1")
            if operation["pausedReason"] is String { return operation }
        }
        Issue.record("the operation never paused")
        return [:]
    }
}

/// A tmpfs of a few megabytes, mounted for one test, that can be filled to the last byte and emptied.
final class SmallFileSystem {
    let path: String
    private var filler: String { path + "/filler" }

    init(megabytes: Int) throws {
        path = NSTemporaryDirectory() + "vfiod-small-fs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        #expect(mount == 0, "mounting a tmpfs needs root")
    }

    /// Fills the file system, then writes to the database until SQLite is refused with `SQLITE_FULL`, so
    /// that no room is left in its write-ahead log either.
    func fill(database path: String) throws {
        let database = try Database(path: path)
        try database.execute("CREATE TABLE IF NOT EXISTS test_filler (bytes BLOB)")
        _ = try Self.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"])
        // A refused insert may leave room it had taken in the log file: smaller rows use it up, until even
        // a row of a few bytes is refused and no commit of vfiod's fits.
        for size in [65536, 4096, 16] {
            var refused: DatabaseError?
            for _ in 0..<4096 where refused == nil {
                do {
                    try database.run("INSERT INTO test_filler VALUES (zeroblob(\(size)))")
                } catch let error as DatabaseError {
                    refused = error
                }
            }
            #expect(refused?.isStorageFull == true, "rows of \(size) bytes ran out of space: \(String(describing: refused))")
        }
    }

    /// Deletes the filler file.
    func freeSpace() throws {
        try FileManager.default.removeItem(atPath: filler)
    }

    func unmount() {
        _ = try? Self.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        try ChildProcess.run(tool, arguments).exit.status
    }
}
