import HTTPServer
import Inventory

extension APIService {
    func addOperationalRoutes() {
        route("GET", "/healthz") { request throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            return .json(Array("{\"status\":\"ok\"}".utf8))
        }
        route("GET", "/readyz") { [self] request throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var problems = readinessProblems()
            if (try? current) == nil { problems.append("the first inventory scan has not finished") }
            if let error = inventory.lastError { problems.append("the last inventory refresh failed: \(error)") }
            guard problems.isEmpty else { throw .notReady(problems.joined(separator: "; ")) }
            return .json(Array("{\"status\":\"ready\"}".utf8))
        }
        route("GET", "/metrics") { [self] request throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let text = metrics.render(snapshot: (try? current)?.snapshot, refreshFailing: inventory.lastError != nil)
            return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        route("GET", "/openapi.yaml") { [self] request throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var response = HTTPResponse.text("", contentType: "application/yaml")
            response.body = openAPIDocument
            return response
        }
    }
}
