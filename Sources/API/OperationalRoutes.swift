import HTTPServer
import Inventory

extension RouteTable {
    mutating func addOperationalRoutes() {
        route("GET", "/healthz", .open) { request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            return .json(Array("{\"status\":\"ok\"}".utf8))
        }
        route("GET", "/readyz", .open) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var problems = context.readinessProblems()
            if (try? context.current) == nil { problems.append("the first inventory scan has not finished") }
            if let error = context.inventory.lastError { problems.append("the last inventory refresh failed: \(error)") }
            guard problems.isEmpty else { throw .notReady(problems.joined(separator: "; ")) }
            return .json(Array("{\"status\":\"ready\"}".utf8))
        }
        route("GET", "/metrics", .open) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let text = context.metrics.render(snapshot: (try? context.current)?.snapshot, refreshFailing: context.inventory.lastError != nil,
                                              activity: context.inventory.activity)
                + context.extraMetrics()
            return .text(text, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
        }
        route("GET", "/openapi.yaml", .open) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var response = HTTPResponse.text("", headers: [("Content-Type", "application/yaml")])
            response.body = context.openAPIDocument
            return response
        }
    }
}
