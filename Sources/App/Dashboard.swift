import Foundation
import HTTPServer
import Store

/// The dashboard's files, compiled into the binary from `ui/src` (through the `Sources/App/Resources/ui`
/// symlink and `.embedInCode`, which names `view-host.js` `view_host_js`; SwiftPM offers no list of them),
/// made into the site the API serves at `/ui/`.
///
/// Adding a file: add it to `ui/src`, then a line here. A test fails when this list and the folder differ.
enum Dashboard {
    /// Every file but the index, with its type.
    static let assets: [(name: String, contentType: String, bytes: [UInt8])] = [
        ("app.css", css, PackageResources.app_css),
        ("app.js", js, PackageResources.app_js),
        ("api.js", js, PackageResources.api_js),
        ("dom.js", js, PackageResources.dom_js),
        ("live.js", js, PackageResources.live_js),
        ("view-signin.js", js, PackageResources.view_signin_js),
        ("view-host.js", js, PackageResources.view_host_js),
        ("view-groups.js", js, PackageResources.view_groups_js),
        ("view-device.js", js, PackageResources.view_device_js),
        ("view-reset.js", js, PackageResources.view_reset_js),
        ("view-assignments.js", js, PackageResources.view_assignments_js),
        ("view-operation.js", js, PackageResources.view_operation_js),
        ("view-audit.js", js, PackageResources.view_audit_js),
        ("view-activity.js", js, PackageResources.view_activity_js),
    ]

    /// Every header the dashboard's files are sent with: only this server's scripts, styles and API, no
    /// framing, no referrer.
    static let headers: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ]

    /// The site: its version is the digest of every file's name and bytes, and the index names the assets'
    /// folder through the placeholder `__ASSETS__`.
    static func site() -> StaticSite {
        var everything: [UInt8] = PackageResources.index_html
        for asset in assets { everything += Array(asset.name.utf8) + [0] + asset.bytes }
        let version = String(SHA256.hexDigest(everything).prefix(16))
        let page = String(decoding: PackageResources.index_html, as: UTF8.self)
            .replacingOccurrences(of: "__ASSETS__", with: "assets/\(version)")
        return StaticSite(index: .init(name: "index.html", contentType: "text/html; charset=utf-8", bytes: Array(page.utf8)),
                          assets: assets.map { .init(name: $0.name, contentType: $0.contentType, bytes: $0.bytes) },
                          version: version, headers: headers)
    }

    private static let css = "text/css; charset=utf-8"
    private static let js = "text/javascript; charset=utf-8"
}
