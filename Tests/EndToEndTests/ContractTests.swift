import API
import Foundation
import HTTPServer
import Testing
import TestSupport

/// `openapi/openapi.yaml` is the contract: these fail when the server and the document disagree.
@Suite struct ContractTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let document = try OpenAPIDocument()
        try await withService(try await TestService(host: richHost())) { service in
            let served = Set(service.service.routes.map { "\($0.method) \($0.pattern)" })
            #expect(served == document.operations)
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
        }
    }

    /// The route pattern a concrete path belongs to.
    static func pattern(for path: String) -> String {
        let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
        if bare.hasPrefix("/v1/devices/") { return "/v1/devices/{address}" }
        if bare.hasPrefix("/v1/groups/") { return "/v1/groups/{id}" }
        return bare
    }
}
