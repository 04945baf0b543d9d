import HTTPServer

extension RouteTable {
    /// The dashboard: `/` and `/ui` redirect to `/ui/`, which serves the site's index; its assets are under
    /// `/ui/assets/{version}/{file}`. No token is needed to fetch them: the page signs in itself, and every
    /// call it makes to the API carries the user's token.
    mutating func addSiteRoutes(_ site: StaticSite) {
        for path in ["/", "/ui"] {
            route("GET", path, .open) { _, _ throws(APIError) in
                HTTPResponse(status: 308, headers: [("Location", "/ui/"), ("Cache-Control", "no-cache")])
            }
        }
        route("GET", "/ui/", .open) { request, _ throws(APIError) in
            site.indexResponse(request)
        }
        route("GET", "/ui/assets/{version}/{file}", .open) { request, _ throws(APIError) in
            let version = request.pathParameters["version"] ?? ""
            let file = request.pathParameters["file"] ?? ""
            guard let response = site.assetResponse(version: version, name: file, request) else {
                return .problem(.routeNotFound(path: request.path))
            }
            return response
        }
    }
}
