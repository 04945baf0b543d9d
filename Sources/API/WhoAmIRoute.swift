import HTTPServer

/// `GET /v1/whoami`: the caller's name, role and tenant, so a client (the dashboard) offers only what the
/// role may do. Any role; a bad token gets the usual `401`.
extension RouteTable {
    mutating func addWhoAmIRoute() {
        route("GET", "/v1/whoami", .read) { request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            var json = JSONWriter(capacity: 96)
            json.beginObject()
            json.key("name"); json.string(principal.name)
            json.key("role"); json.string(principal.role.rawValue)
            json.key("tenant"); json.string(principal.tenant)
            json.endObject()
            return .json(json.bytes, headers: [("Cache-Control", "no-store")])
        }
    }
}
