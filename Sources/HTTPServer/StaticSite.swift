/// A small set of files served from memory: an index page that is always revalidated, and assets under a
/// versioned folder (`assets/<version>/name`) that browsers may keep for a year, since a change of any
/// file gives them a new version. Each body is gzip-compressed once, at creation, and sent compressed to
/// clients that accept it. Knows nothing of what the files are.
public struct StaticSite: Sendable {
    /// One file to serve.
    public struct File: Sendable {
        /// Its name under the assets folder (`app.js`), or the index's name.
        public var name: String
        /// Its `Content-Type`.
        public var contentType: String
        /// Its bytes.
        public var bytes: [UInt8]

        /// A file called `name` of `contentType`.
        public init(name: String, contentType: String, bytes: [UInt8]) {
            self.name = name
            self.contentType = contentType
            self.bytes = bytes
        }
    }

    private struct Body: Sendable {
        let contentType: String
        let plain: [UInt8]
        let gzipped: [UInt8]?
        let etag: String
    }

    /// The version folder's name (given by the caller: a digest of every file).
    public let version: String
    private let index: Body
    private let assets: [String: Body]
    private let extraHeaders: [(String, String)]

    /// A site with `index` and `assets` at `version`; `headers` go on every answer (a CSP, for example).
    public init(index: File, assets: [File], version: String, headers: [(String, String)] = []) {
        self.version = version
        self.index = Self.body(index, tag: version + "-index")
        var table: [String: Body] = [:]
        for file in assets { table[file.name] = Self.body(file, tag: version + "-" + file.name) }
        self.assets = table
        self.extraHeaders = headers
    }

    /// The index page: `no-cache`, so the browser revalidates it (and meets a new version at once).
    public func indexResponse(_ request: HTTPRequest) -> HTTPResponse {
        respond(index, request, cacheControl: "no-cache")
    }

    /// The asset `name` of `version`, cached for a year; nil when there is no such file or version.
    public func assetResponse(version: String, name: String, _ request: HTTPRequest) -> HTTPResponse? {
        guard version == self.version, let body = assets[name] else { return nil }
        return respond(body, request, cacheControl: "public, max-age=31536000, immutable")
    }

    private func respond(_ body: Body, _ request: HTTPRequest, cacheControl: String) -> HTTPResponse {
        let gzip = body.gzipped != nil && Gzip.isAccepted(by: request.header("Accept-Encoding"))
        let etag = gzip ? "\"\(body.etag)-gz\"" : "\"\(body.etag)\""
        var headers: [(String, String)] = [("Cache-Control", cacheControl), ("Vary", "Accept-Encoding"), ("ETag", etag)]
        headers += extraHeaders
        if let match = request.header("If-None-Match"),
           match.split(separator: ",").contains(where: { $0.filter { $0 != " " } == etag || $0 == "*" }) {
            return HTTPResponse(status: 304, headers: headers)
        }
        headers.append(("Content-Type", body.contentType))
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        return HTTPResponse(status: 200, headers: headers, body: gzip ? body.gzipped! : body.plain)
    }

    private static func body(_ file: File, tag: String) -> Body {
        // Small files gain nothing from gzip; a compressed body no smaller than the plain one is dropped.
        let gzipped = file.bytes.count >= 256 ? Gzip.compress(file.bytes).flatMap { $0.count < file.bytes.count ? $0 : nil } : nil
        let safeTag = String(tag.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        return Body(contentType: file.contentType, plain: file.bytes, gzipped: gzipped, etag: safeTag)
    }
}
