import Foundation
import Testing
import Store
import TestSupport
import VFIOCore
import VFIOSimulator
@testable import Assignments

@Suite struct LeaseEndToEndTests {
    struct RoundTrip: Sendable, CustomStringConvertible {
        let name: String
        let target: [String: Any & Sendable]
        let group: Int
        let endpoints: [String: String?]
        let untouched: [String]
        var description: String { name }
    }

    static let roundTrips: [RoundTrip] = [
        RoundTrip(name: "single-device group", target: ["device": "0000:05:00.0"], group: 10,
                  endpoints: ["0000:05:00.0": nil], untouched: []),
        RoundTrip(name: "two endpoints behind a bridge, one on a host driver", target: ["group": 11], group: 11,
                  endpoints: ["0000:06:00.0": "e1000", "0000:06:01.0": nil], untouched: ["0000:00:1c.0"]),
        RoundTrip(name: "an SR-IOV virtual function", target: ["device": "0000:07:01.1"], group: 14,
                  endpoints: ["0000:07:01.1": "iavf"], untouched: ["0000:07:00.0", "0000:07:01.0"]),
    ]

    @Test(arguments: roundTrips)
    func leaseRenewReleaseGivesEveryDeviceBack(_ trip: RoundTrip) async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            let untouchedBefore = trip.untouched.map { TreeState(kernel, $0).driver }
            var body: [String: Any] = ["holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 600]
            for (key, value) in trip.target { body[key] = value }
            let (created, assignment) = try await service.send("POST", "/v1/assignments", json: body)
            #expect(created.status == 202, "\(created.bodyText)")
            #expect(assignment["state"] as? String == "binding")
            let id = try #require(assignment["id"] as? String)
            #expect(created.header("Location") == "/v1/assignments/\(id)")
            let bind = try await service.finish(operation: created.header("Operation-Location"))
            #expect(bind["state"] as? String == "succeeded", "\(bind)")

            let (_, active) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(active["state"] as? String == "active")
            #expect((active["devicePaths"] as? [String])?.first == "/dev/vfio/\(trip.group)")
            for (address, _) in trip.endpoints {
                #expect(TreeState(kernel, address) == TreeState(driver: "vfio-pci", driverOverride: "vfio-pci", groupNode: true), "\(address)")
                let (_, device) = try await service.send("GET", "/v1/devices/\(address)")
                #expect(device["assignmentId"] as? String == id)
            }
            #expect(trip.untouched.map { TreeState(kernel, $0).driver } == untouchedBefore)

            let etag = try #require(try await service.send("GET", "/v1/assignments/\(id)").response.header("ETag"))
            let stale = try await service.send("POST", "/v1/assignments/\(id)/renew", json: ["ttlSeconds": 900],
                                               headers: [("If-Match", "\"g1\"")])
            #expect(stale.response.status == 412)
            #expect(stale.body["code"] as? String == "precondition_failed")
            let renewed = try await service.send("POST", "/v1/assignments/\(id)/renew", json: ["ttlSeconds": 900],
                                                 headers: [("If-Match", etag)])
            #expect(renewed.response.status == 200, "\(renewed.response.bodyText)")
            #expect((renewed.body["generation"] as? Int ?? 0) > (active["generation"] as? Int ?? 0))
            #expect(renewed.body["ttlSeconds"] as? Int == 900)

            let (released, releasing) = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(released.status == 202)
            #expect(releasing["state"] as? String == "releasing")
            let release = try await service.finish(operation: released.header("Operation-Location"))
            #expect(release["state"] as? String == "succeeded", "\(release)")
            let (_, done) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(done["state"] as? String == "released")
            for (address, original) in trip.endpoints {
                let state = TreeState(kernel, address)
                #expect(state.driver == original, "\(address): \(state)")
                #expect(state.driverOverride == nil, "\(address): \(state)")
                let (_, device) = try await service.send("GET", "/v1/devices/\(address)")
                #expect(device["state"] as? String == "available")
                #expect(device["assignmentId"] is NSNull)
            }
            #expect(TreeState(kernel, trip.endpoints.keys.first!).groupNode == false)
            let (_, verify) = try await service.send("GET", "/v1/audit/verify")
            #expect(verify["ok"] as? Bool == true)
        }
    }

    /// 63 racers: one under the per-address connection limit (64), so that the list read after the race is
    /// admitted while the racers' connections are still closing (with 64 it was sometimes refused, correctly,
    /// with 503 `too_many_connections`).
    @Test func sixtyThreeClientsRaceForOneGroupAndExactlyOneWins() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<63 {
                    group.addTask {
                        let (response, body) = try await service.send(
                            "POST", "/v1/assignments",
                            json: ["group": 11, "holder": ["id": "vm-\(index)", "tenant": "t1"]])
                        return (response.status, body["code"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 202 }.count == 1)
            #expect(statuses.filter { $0.0 == 409 }.count == 62)
            #expect(statuses.allSatisfy { $0.0 == 202 || ["group_assigned", "group_not_assignable"].contains($0.1) })
            // The 62 losers were refused before anything was stored: one assignment exists in all.
            let (listed, all) = try await service.send("GET", "/v1/assignments")
            #expect(listed.status == 200, "\(all)")
            let items = all["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(["binding", "active"].contains(items.first?["state"] as? String))
        }
    }

    @Test func refusalsNameWhatBlocksAndChangeNothing() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            let holder = ["id": "vm-1", "tenant": "t1"]
            let protected = try await service.send("POST", "/v1/assignments", json: ["device": "0000:00:02.0", "holder": holder])
            #expect(protected.response.status == 409)
            #expect(protected.body["code"] as? String == "group_not_assignable")
            #expect((protected.body["blockers"] as? [String])?.first?.contains("0000:00:02.0 is protected") == true)
            let outsider = try await service.send("POST", "/v1/assignments", json: ["device": "0000:08:00.0", "holder": holder])
            #expect(outsider.body["code"] as? String == "group_not_assignable")
            #expect(outsider.response.bodyText.contains("not in the allowlist"))
            let unknown = try await service.send("POST", "/v1/assignments", json: ["device": "0000:99:00.0", "holder": holder])
            #expect(unknown.response.status == 404)

            let first = try await service.send("POST", "/v1/assignments", json: ["device": "0000:06:01.0", "holder": holder])
            #expect(first.response.status == 202)
            _ = try await service.finish(operation: first.response.header("Operation-Location"))
            let member = try await service.send("POST", "/v1/assignments", json: ["device": "0000:06:00.0", "holder": holder])
            #expect(member.response.status == 409)
            #expect(member.body["code"] as? String == "group_assigned")
            #expect(member.body["assignmentId"] as? String == first.body["id"] as? String)
            #expect(TreeState(kernel, "0000:00:02.0").driver == "i915")
            #expect(TreeState(kernel, "0000:08:00.0").driver == "r8169")

            for bad: [String: Any] in [["holder": holder], ["device": "0000:05:00.0", "group": 10, "holder": holder],
                                       ["device": "0000:05:00.0", "holder": ["id": "vm 1", "tenant": "t1"]],
                                       ["device": "0000:05:00.0", "holder": holder, "ttlSeconds": 0],
                                       ["device": "0000:05:00.0", "holder": holder, "colour": "red"]] {
                let response = try await service.send("POST", "/v1/assignments", json: bad)
                #expect(response.response.status == 400, "\(bad)")
                #expect(response.body["code"] as? String == "invalid_body")
            }
            let malformed = try await service.request("POST", "/v1/assignments", headers: [("Content-Type", "application/json")],
                                                      body: Array("{not json".utf8))
            #expect(malformed.status == 400)
            #expect(malformed.bodyText.contains("malformed_body"))
            #expect(TreeState(kernel, "0000:05:00.0").driver == nil)
        }
    }

    @Test func anIdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherBody() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let body: [String: Any] = ["device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"]]
            let first = try await service.send("POST", "/v1/assignments", json: body, headers: [("Idempotency-Key", "k-1")])
            let again = try await service.send("POST", "/v1/assignments", json: body, headers: [("Idempotency-Key", "k-1")])
            #expect(first.response.status == 202)
            #expect(again.response.status == 202)
            #expect(again.response.body == first.response.body)
            let other = try await service.send("POST", "/v1/assignments", json: ["device": "0000:07:01.0", "holder": ["id": "vm-1", "tenant": "t1"]],
                                               headers: [("Idempotency-Key", "k-1")])
            #expect(other.response.status == 422)
            #expect(other.body["code"] as? String == "idempotency_key_reused")
            let (_, list) = try await service.send("GET", "/v1/assignments")
            #expect((list["items"] as? [Any])?.count == 1)

            // Eight copies of one request at once: one creates, the rest replay its answer.
            let answers = try await withThrowingTaskGroup(of: (Int, [UInt8], String?).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let racing: [String: Any] = ["device": "0000:07:01.0", "holder": ["id": "vm-2", "tenant": "t1"]]
                        let (response, body) = try await service.send("POST", "/v1/assignments", json: racing,
                                                                      headers: [("Idempotency-Key", "k-race")])
                        return (response.status, response.body, body["code"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, [UInt8], String?)]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == 202 }, "\(answers.map { ($0.0, $0.2) })")
            #expect(Set(answers.map(\.1)).count == 1, "every 202 is the same first response")
            let (_, after) = try await service.send("GET", "/v1/assignments?holder=vm-2")
            #expect((after["items"] as? [Any])?.count == 1, "one assignment, however many copies raced")
        }
    }

    @Test func aFailedBindIsUndoneAndSaysWhy() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let kernel = try #require(service.simulator)
            try kernel.injectFault(.probeLeavesDriverless(PCIAddress("0000:06:01.0")!))
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm-1", "tenant": "t1"]])
            let bind = try await service.finish(operation: created.response.header("Operation-Location"))
            #expect(bind["state"] as? String == "failed")
            let id = try #require(created.body["id"] as? String)
            let (_, failed) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(failed["state"] as? String == "failed")
            #expect((failed["failure"] as? String)?.contains("verify_driver") == true, "\(failed)")
            let (_, steps) = try await service.send("GET", "/v1/audit?assignment=\(id)&action=operation.step")
            let check = (steps["items"] as? [[String: Any]] ?? []).filter { ($0["detail"] as? String ?? "").contains("verify_driver") }
            #expect(check.count == 1 && check.first?["error"] is String, "a failed check is audited with its error: \(check)")
            #expect(TreeState(kernel, "0000:06:00.0") == TreeState(driver: "e1000", driverOverride: nil, groupNode: false))
            #expect(TreeState(kernel, "0000:06:01.0").driverOverride == nil)
            try kernel.clearFaults()
            let retry = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm-1", "tenant": "t1"]])
            #expect(retry.response.status == 202, "a failed lease frees its group")
        }
    }

    @Test func aPassedCheckIsAStepButNotAnAuditRow() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:07:01.0", "holder": ["id": "vm-1", "tenant": "t1"]])
            let bind = try await service.finish(operation: created.response.header("Operation-Location"))
            #expect(bind["state"] as? String == "succeeded", "\(bind)")
            let steps = (bind["steps"] as? [[String: Any]] ?? []).map { ($0["action"] as? String ?? "", $0["state"] as? String ?? "") }
            #expect(steps.contains { $0 == ("verify_driver", "done") } && steps.contains { $0 == ("verify_group", "done") }, "\(steps)")
            let id = try #require(created.body["id"] as? String)
            let (_, audit) = try await service.send("GET", "/v1/audit?assignment=\(id)&action=operation.step")
            let details = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
            #expect(details.contains { $0.hasSuffix(" probe") }, "each kernel write is audited: \(details)")
            #expect(!details.contains { $0.contains("verify_") }, "a passed check changes nothing: \(details)")
            // The journal numbers the steps of a transaction itself after one lookup: 1, 2, … with no gap,
            // and each write's audit row names the number its step row got.
            let rows = bind["steps"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["seq"] as? Int } == Array(1...max(1, rows.count)), "\(rows)")
            let operation = try #require(bind["id"] as? String)
            for row in rows where !(row["action"] as? String ?? "").hasPrefix("verify_") {
                let named = "\(operation) step \(row["seq"] as? Int ?? -1) \(row["action"] as? String ?? "")"
                #expect(details.contains { $0.hasSuffix(named) }, "\(named) in \(details)")
            }
        }
    }

    @Test func anOperationShowsFinishedOnlyOnceWhatItDidIsPublished() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:07:01.0", "holder": ["id": "vm-1", "tenant": "t1"]])
            let bind = try await service.finish(operation: created.response.header("Operation-Location"))
            let id = try #require(bind["id"] as? String)
            // As a worker leaves it between committing the operation's end and publishing the inventory.
            let waiters = service.service.assignments.waiters
            waiters.publishing(id)
            async let read = service.send("GET", "/v1/operations/\(id)")
            var polls = 0
            while waiters.waitingCount(for: id) == 0 && polls < 60_000 {
                try await Task.sleep(for: .milliseconds(1))
                polls += 1
            }
            #expect(waiters.waitingCount(for: id) == 1, "the read waits for the publish")
            waiters.finished(id)
            let (response, operation) = try await read
            #expect(response.status == 200 && operation["state"] as? String == "succeeded", "\(operation)")
        }
    }

    @Test func anExpiredLeaseIsReleasedAndAudited() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:07:01.0", "holder": ["id": "vm-1", "tenant": "t1"], "ttlSeconds": 30])
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            let id = try #require(created.body["id"] as? String)
            #expect(await service.service.assignments.expireDue(asOf: Date().addingTimeInterval(3600)) == 1)
            let operations = try await service.service.assignments.operations(ofAssignment: id)
            let release = try #require(operations.last)
            #expect(release.kind == .release)
            _ = try await service.finish(operation: "/v1/operations/\(release.id)")
            let (_, expired) = try await service.send("GET", "/v1/assignments/\(id)")
            #expect(expired["state"] as? String == "released")
            #expect(expired["releaseReason"] as? String == "expired")
            let (_, audit) = try await service.send("GET", "/v1/audit?assignment=\(id)&action=assignment.expired")
            #expect((audit["items"] as? [Any])?.count == 1)
            #expect(TreeState(kernel: service, "0000:07:01.0").driver == "iavf")
        }
    }

    @Test func auditVerifyFindsATamperedRow() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["device": "0000:05:00.0", "holder": ["id": "vm-1", "tenant": "t1"]])
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            let (_, before) = try await service.send("GET", "/v1/audit/verify")
            #expect(before["ok"] as? Bool == true)
            let database = try Database(path: service.service.configuration.databasePath)
            try database.execute("DROP TRIGGER audit_no_update")
            _ = try database.run("UPDATE audit SET holder = 'someone-else' WHERE seq = 3")
            let (_, after) = try await service.send("GET", "/v1/audit/verify")
            #expect(after["ok"] as? Bool == false)
            #expect(after["firstBrokenSeq"] as? Int == 3)
            let export = try await service.request("GET", "/v1/audit/export?format=csv")
            #expect(export.status == 200)
            #expect(export.bodyText.hasPrefix("seq,time,actor"))
        }
    }
}

extension TreeState {
    init(kernel service: TestService, _ address: String) {
        self.init(service.service.kernel, address)
    }
}
