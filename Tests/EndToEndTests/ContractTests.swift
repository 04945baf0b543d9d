import API
import Foundation
import HTTPServer
import Store
import Testing
import EventStream
import TestSupport
import VFIOCore
import VFIOSimulator

/// `openapi/openapi.yaml` is the contract: these fail when the server and the document disagree.
@Suite struct ContractTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(host: richHost())) { service in
            let served = Set(service.service.routes.map { "\($0.method) \($0.pattern)" })
            #expect(served == document.operations)
        }
    }

    /// Every event type the stream sends is in `x-event-types`, and what a lease, a release and a rescan
    /// send matches the schemas there.
    @Test func eventTypesAndTheirDataMatchTheDocument() async throws {
        let document = try OpenAPIDocument()
        #expect(Set(document.eventSchemas.keys) == EventTypes.all)
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let stream = try await service.openEvents()
            let id = try await service.lease(group: 11)
            try await service.releaseAndWait(id)
            _ = await service.service.inventory.refresh()
            let frames = try await stream.read { $0.type == "inventory.rescanned" && $0.object["full"] as? Bool == true }
            #expect(Set(frames.map(\.type)).isSuperset(of: EventTypes.filterable), "\(Set(frames.map(\.type)))")
            try expectFramesMatchTheDocument(frames)
        }
    }

    @Test func everyProblemCodeIsDocumentedAndEveryDocumentedCodeExists() throws {
        let document = try OpenAPIDocument()
        let emitted = Set(APIError.catalog.map(\.code) + StandardProblems.catalog.map(\.code))
        #expect(document.problemCodeEnum == emitted)
        let global = Dictionary(uniqueKeysWithValues: document.globalProblems.map { ($0.code, $0.status) })
        for (code, status) in StandardProblems.catalog {
            #expect(global[code] == status, "\(code) is a global problem with status \(status)")
        }
    }

    @Test func everyBadInputAnswerIsDocumentedForItsRoute() async throws {
        let document = try OpenAPIDocument()
        let global = Set(document.globalProblems.map { "\($0.status) \($0.code)" })
        try await withService(try await TestService(host: richHost())) { service in
            for item in BadInputTests.cases where !global.contains("\(item.status) \(item.code)") {
                let pattern = Self.pattern(for: item.path)
                let codes = document.problemCodes(item.method, pattern, status: item.status)
                #expect(codes.contains(item.code), "\(item.method) \(pattern) documents \(item.status) \(item.code)")
            }
            let problem = try await service.get("/v1/devices/0000:99:00.0")
            let object = try JSONSerialization.jsonObject(with: Data(problem.body))
            let schema = try #require(document.responseSchema("GET", "/v1/devices/{address}", status: 404,
                                                              mediaType: "application/problem+json"))
            #expect(document.violations(of: object, against: schema).isEmpty)
        }
    }

    @Test(arguments: ["/v1/host", "/v1/devices", "/v1/devices/{address}", "/v1/groups", "/v1/groups/{id}", "/healthz", "/readyz"])
    func responsesMatchTheirSchemas(_ pattern: String) async throws {
        let document = try OpenAPIDocument()
        let schema = try #require(document.responseSchema("GET", pattern), "\(pattern) documents a JSON 200")
        try await withService(try await TestService(host: richHost())) { service in
            var paths: [String] = []
            switch pattern {
            case "/v1/devices/{address}":
                paths = try await service.items("/v1/devices").map { "/v1/devices/\($0["address"] as! String)" }
            case "/v1/groups/{id}":
                paths = try await service.items("/v1/groups").map { "/v1/groups/\($0["id"] as! Int)" }
            case "/v1/devices": paths = ["/v1/devices", "/v1/devices?pageSize=2"]
            case "/v1/groups": paths = ["/v1/groups", "/v1/groups?pageSize=2"]
            default: paths = [pattern]
            }
            for path in paths {
                let response = try await service.get(path)
                #expect(response.status == 200)
                let value = try JSONSerialization.jsonObject(with: Data(response.body))
                let problems = document.violations(of: value, against: schema)
                #expect(problems.isEmpty, "\(path): \(problems.prefix(5))")
            }
        }
    }

    @Test func leaseAndAuditResponsesMatchTheirSchemas() async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 11, "holder": ["id": "vm", "tenant": "t"]])
            #expect(created.response.status == 202)
            let operationPath = try #require(created.response.header("Operation-Location"))
            _ = try await service.finish(operation: operationPath)
            let id = try #require(created.body["id"] as? String)
            let checks: [(method: String, pattern: String, status: Int, path: String, body: [String: Any]?)] = [
                ("POST", "/v1/assignments", 202, "", nil),
                ("GET", "/v1/assignments/{id}", 200, "/v1/assignments/\(id)", nil),
                ("GET", "/v1/assignments", 200, "/v1/assignments?pageSize=1", nil),
                ("GET", "/v1/operations/{id}", 200, operationPath, nil),
                ("POST", "/v1/assignments/{id}/renew", 200, "/v1/assignments/\(id)/renew", ["ttlSeconds": 60]),
                ("GET", "/v1/audit", 200, "/v1/audit?pageSize=5", nil),
                ("GET", "/v1/audit/verify", 200, "/v1/audit/verify", nil),
                ("DELETE", "/v1/assignments/{id}", 202, "/v1/assignments/\(id)", nil),
            ]
            for check in checks {
                let schema = try #require(document.responseSchema(check.method, check.pattern, status: check.status),
                                          "\(check.method) \(check.pattern) documents a JSON \(check.status)")
                let value: Any
                if check.path.isEmpty {
                    value = created.body
                } else {
                    let (response, _) = try await service.send(check.method, check.path, json: check.body)
                    #expect(response.status == check.status, "\(check.method) \(check.path): \(response.bodyText)")
                    value = try JSONSerialization.jsonObject(with: Data(response.body))
                }
                let problems = document.violations(of: value, against: schema)
                #expect(problems.isEmpty, "\(check.method) \(check.pattern): \(problems.prefix(5))")
            }
            let conflict = try await service.send("POST", "/v1/assignments", json: ["device": "0000:00:02.0", "holder": ["id": "vm", "tenant": "t"]])
            let problemSchema = try #require(document.responseSchema("POST", "/v1/assignments", status: 409,
                                                                     mediaType: "application/problem+json"))
            #expect(document.violations(of: conflict.body, against: problemSchema).isEmpty)
            #expect(document.problemCodes("POST", "/v1/assignments", status: 409).contains("group_not_assignable"))
        }
    }

    /// A reset refused, a quarantine that is not there, a release whose restore fails (quarantine), the
    /// quarantine cleared (a restore), and a release that resets: every answer against its schema.
    @Test func resetAndQuarantineResponsesMatchTheirSchemas() async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let simulator = try #require(service.simulator)
            let vf = "0000:07:01.0"
            let body: [String: Any] = ["device": vf, "holder": ["id": "vm", "tenant": "t"], "releaseGraceSeconds": 0,
                                       "releaseTimeoutSeconds": 30, "escalation": "terminate",
                                       "callbackUrl": "http://127.0.0.1:\(service.port)/callback"]
            let created = try await service.send("POST", "/v1/assignments", json: body)
            #expect(created.response.status == 202)
            Self.expect(created.body, conformsTo: document, "POST", "/v1/assignments", 202)
            #expect(created.body["callbackUrl"] as? String == body["callbackUrl"] as? String)
            #expect(created.body["escalation"] as? String == "terminate")
            _ = try await service.finish(operation: created.response.header("Operation-Location"))
            let id = try #require(created.body["id"] as? String)

            for path in ["/v1/devices/\(vf)/reset-scope", "/v1/devices/\(vf)/reset-scope?method=hot",
                         "/v1/devices/0000:07:01.1/reset-scope?method=function"] {
                let (response, preview) = try await service.send("GET", path)
                #expect(response.status == 200, "\(path): \(response.bodyText)")
                Self.expect(preview, conformsTo: document, "GET", "/v1/devices/{address}/reset-scope", 200)
                #expect(preview["canReset"] as? Bool == (preview["blockers"] as? [Any])?.isEmpty)
            }
            let refused = try await service.send("POST", "/v1/devices/0000:07:01.1/reset", json: ["method": "function"])
            #expect(refused.response.status == 409)
            #expect(refused.body["code"] as? String == "reset_not_possible")
            #expect((refused.body["blockers"] as? [String])?.contains { $0.hasPrefix("0000:07:01.1: ") } == true, "\(refused.body)")
            Self.expect(refused.body, conformsTo: document, "POST", "/v1/devices/{address}/reset", 409, problem: true)
            let notQuarantined = try await service.send("DELETE", "/v1/devices/\(vf)/quarantine")
            #expect(notQuarantined.response.status == 404)
            #expect(notQuarantined.body["code"] as? String == "not_quarantined")
            Self.expect(notQuarantined.body, conformsTo: document, "DELETE", "/v1/devices/{address}/quarantine", 404, problem: true)

            // The restore's unbind from vfio-pci fails: the release quarantines the device.
            try simulator.injectFault(.unbindBusy(PCIAddress(vf)!))
            let released = try await service.send("DELETE", "/v1/assignments/\(id)")
            #expect(released.response.status == 202)
            let release = try await service.finish(operation: released.response.header("Operation-Location"))
            Self.expect(release, conformsTo: document, "GET", "/v1/operations/{id}", 200)
            #expect(release["kind"] as? String == "release")
            #expect(release["callback"] as? String == "404", "the service's own port answers the callback's POST")
            try simulator.clearFaults()
            let device = try await service.json("/v1/devices/\(vf)")
            #expect(device["state"] as? String == "quarantined", "\(device["stateReason"] ?? "")")
            let scope = try await service.json("/v1/devices/\(vf)/reset-scope")
            Self.expect(scope, conformsTo: document, "GET", "/v1/devices/{address}/reset-scope", 200)
            #expect(scope["canReset"] as? Bool == false)

            let cleared = try await service.send("DELETE", "/v1/devices/\(vf)/quarantine")
            #expect(cleared.response.status == 202, "\(cleared.response.bodyText)")
            #expect(cleared.response.header("Location") == cleared.response.header("Operation-Location"))
            Self.expect(cleared.body, conformsTo: document, "DELETE", "/v1/devices/{address}/quarantine", 202)
            #expect(cleared.body["kind"] as? String == "restore")
            #expect(cleared.body["target"] as? String == vf)
            let restore = try await service.finish(operation: cleared.response.header("Operation-Location"))
            Self.expect(restore, conformsTo: document, "GET", "/v1/operations/{id}", 200)
            #expect(restore["state"] as? String == "succeeded", "\(restore["error"] ?? "")")
            #expect(try await service.json("/v1/devices/\(vf)")["state"] as? String == "available")
            for action in ["device.quarantined", "device.quarantine_cleared"] {
                let audit = try await service.json("/v1/audit?action=\(action)")
                Self.expect(audit, conformsTo: document, "GET", "/v1/audit", 200)
                #expect((audit["items"] as? [Any])?.isEmpty == false, "\(action) is audited")
            }

            // Reset on release: the release either resets the device or, failing, quarantines it.
            let resetting = try await service.send("POST", "/v1/assignments",
                                                   json: ["device": "0000:05:00.0", "holder": ["id": "vm", "tenant": "t"], "resetOnRelease": true])
            _ = try await service.finish(operation: resetting.response.header("Operation-Location"))
            let id2 = try #require(resetting.body["id"] as? String)
            let release2 = try await service.finish(operation: try await service.send("DELETE", "/v1/assignments/\(id2)").response.header("Operation-Location"))
            Self.expect(release2, conformsTo: document, "GET", "/v1/operations/{id}", 200)
            let state = try await service.json("/v1/devices/0000:05:00.0")["state"] as? String
            #expect(state == "quarantined" || release2["reset"] is [String: Any], "\(release2)")
        }
    }

    /// What a release saw of its openers (written into its stored detail, as the release workflow does)
    /// comes out in the shape the document gives. Rows written before the processes were called openers
    /// store them under `holders`: those read the same.
    @Test(arguments: ["openers", "holders"])
    func anOperationsOpenersAndEscalationMatchTheSchema(storedKey: String) async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let created = try await service.send("POST", "/v1/assignments", json: ["group": 10, "holder": ["id": "vm", "tenant": "t"]])
            let location = try #require(created.response.header("Operation-Location"))
            _ = try await service.finish(operation: location)
            let detail = #"{""# + storedKey + #"": [{"pid": 4242, "commandLine": "qemu-system-x86_64 -name vm", "paths": ["/dev/vfio/10"], "#
                + #""since": 1763906400000, "goneAt": 1763906460000}, {"pid": 4243, "commandLine": "helper", "paths": [], "since": 1763906400000}], "#
                + #""requestsRelayed": [{"sequence": 81234, "text": "vfio-pci 0000:05:00.0: Relaying device request to user (#0)"}], "#
                + #""requestCount": {"total": 5, "logged": 1}, "#
                + #""escalation": {"policy": "terminate", "signal": "SIGTERM", "pids": [4243], "at": 1763906430000}, "#
                + #""stuckSince": 1763906430000, "callback": "failed: connect: Connection refused", "#
                + #""resetMethod": "hot", "resetPath": "cdev", "kernelScope": ["0000:05:00.0"]}"#
            let database = try Database(path: service.service.configuration.databasePath)
            let id = String(location.split(separator: "/").last ?? "")
            #expect(try database.run("UPDATE operations SET detail = ? WHERE id = ?", .text(detail), .text(id)) == 1)
            let operation = try await service.json(location)
            Self.expect(operation, conformsTo: document, "GET", "/v1/operations/{id}", 200)
            let openers = try #require(operation["openers"] as? [[String: Any]])
            #expect(openers.map { $0["pid"] as? Int } == [4242, 4243])
            #expect(openers[0]["goneAt"] is String && openers[1]["goneAt"] is NSNull)
            #expect((operation["escalation"] as? [String: Any])?["signal"] as? String == "SIGTERM")
            #expect(operation["stuck"] as? Bool == true)
            #expect((operation["reset"] as? [String: Any])?["kernelScope"] as? [String] == ["0000:05:00.0"])
            #expect((operation["requestsRelayed"] as? [[String: Any]])?.first?["sequence"] as? Int == 81234)
            #expect(operation["requestsRelayedCount"] as? Int == 5 && operation["requestsRelayedLogged"] as? Int == 1)
            #expect(operation["requestsRelayedSource"] as? String == "inferred")
        }
    }

    /// The examples the document gives are valid by its own schemas.
    @Test func everySchemaExampleMatchesItsSchema() throws {
        let document = try OpenAPIDocument()
        let examples = document.schemaExamples
        #expect(examples.contains { $0.name == "Operation" } && examples.contains { $0.name == "ResetPreview" })
        for (name, example) in examples {
            let data = try JSONSerialization.data(withJSONObject: example, options: .fragmentsAllowed)
            let value = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
            let problems = document.violations(of: value, against: try #require(document.schema(name)))
            #expect(problems.isEmpty, "\(name) example: \(problems.prefix(5))")
        }
    }

    @Test func theServedDocumentIsTheRepositorysFile() async throws {
        let file = try Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot() + "/openapi/openapi.yaml"))
        try await withService(try await TestService(host: richHost())) { service in
            let response = try await service.get("/openapi.yaml")
            #expect(response.status == 200)
            #expect(Data(response.body) == file)
        }
    }

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await withService(try await TestService(host: richHost())) { service in
            _ = try await service.get("/v1/devices")
            _ = try await service.get("/v1/devices/0000:99:00.0")
            _ = try await service.get("/nowhere")
            let text = try await service.get("/metrics").bodyText
            #expect(text.contains(#"vfiod_http_requests_total{route="/v1/devices",method="GET",status="200"} 1"#))
            #expect(text.contains(#"vfiod_http_requests_total{route="/v1/devices/{address}",method="GET",status="404"} 1"#))
            #expect(text.contains(#"vfiod_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
            #expect(text.contains(#"vfiod_http_request_duration_seconds_bucket{route="/v1/devices",method="GET",le="+Inf"} 1"#))
            #expect(text.contains("vfiod_inventory_devices{state=\"available\"}"))
            #expect(text.contains("vfiod_inventory_refresh_duration_seconds "))
            #expect(text.contains("\nvfiod_releases_stuck 0\n"))
            let described = try #require(try OpenAPIDocument().operation("GET", "/metrics")?["description"] as? String)
            let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
            #expect(!families.isEmpty)
            for family in families { #expect(described.contains("`\(family)"), "GET /metrics documents \(family)") }
        }
    }

    /// Expects `value` to match the schema `method pattern` documents for `status`.
    static func expect(_ value: Any, conformsTo document: OpenAPIDocument, _ method: String, _ pattern: String, _ status: Int,
                       problem: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        let mediaType = problem ? "application/problem+json" : "application/json"
        guard let schema = document.responseSchema(method, pattern, status: status, mediaType: mediaType) else {
            Issue.record("\(method) \(pattern) documents no \(mediaType) \(status)", sourceLocation: sourceLocation)
            return
        }
        let problems = document.violations(of: value, against: schema)
        #expect(problems.isEmpty, "\(method) \(pattern) \(status): \(problems.prefix(5))", sourceLocation: sourceLocation)
    }

    /// The route pattern a concrete path belongs to.
    static func pattern(for path: String) -> String {
        let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
        for (prefix, parameter) in [("/v1/devices/", "{address}"), ("/v1/groups/", "{id}"), ("/v1/assignments/", "{id}"),
                                    ("/v1/operations/", "{id}")] where bare.hasPrefix(prefix) {
            let rest = bare.dropFirst(prefix.count)
            return prefix + parameter + (rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "")
        }
        return bare
    }
}
