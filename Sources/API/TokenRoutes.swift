import Foundation
import HTTPServer
import Store

/// `GET /v1/tokens` and `DELETE /v1/tokens/{name}`: an admin lists the API tokens and revokes one.
/// Neither ever shows a token or its hash; a revocation is audited (`token.revoked`, the caller as actor)
/// in the transaction that makes it, and the next request with the token is refused.
extension RouteTable {
    mutating func addTokenRoutes() {
        route("GET", "/v1/tokens", .admin) { [context] request, _ throws(APIError) in
            let query = try QueryParameters(request.query, allowed: ["pageSize", "pageToken"])
            let size = try Paging.size(query["pageSize"])
            var after: String?
            if let text = query["pageToken"] {
                after = try PageToken(decoding: text, kind: "tokens", filterKey: "").lastKey
            }
            let frozen = after
            let records = try await context.storeCall { try TokenStore(database: $0).list(after: frozen, limit: size + 1) }
            let items = Array(records.prefix(size))
            let next = records.count > size
                ? items.last.map { PageToken(kind: "tokens", lastKey: $0.name, filterKey: "").encoded } : nil
            return .json(ListBody.make(items: items.map(TokenJSON.token), nextPageToken: next))
        }
        route("DELETE", "/v1/tokens/{name}", .admin) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let name = request.pathParameters["name"] ?? ""
            let record = try await context.revokeToken(name, actor: principal.name, requestID: request.requestID)
            // The verifier forgets the token at once, whatever it kept for a database outage.
            if case .tokens(let verifier) = context.authentication { verifier.revoked(name: record.name) }
            return HTTPResponse(status: 204, headers: [], body: [])
        }
    }
}

extension APIContext {
    /// Revokes the token `name` on the store thread; `404` `token_not_found` when no token has the name.
    func revokeToken(_ name: String, actor: String, requestID: String?) async throws(APIError) -> TokenRecord {
        do {
            return try await assignments.store { database in
                try TokenStore(database: database).revoke(name: name, actor: actor, requestID: requestID)
            }
        } catch let error as TokenStoreError {
            if case .unknownName = error { throw .tokenNotFound(name) }
            throw .store(error)
        } catch {
            throw .store(error)
        }
    }
}

extension APIError {
    static func tokenNotFound(_ name: String) -> APIError {
        APIError(404, "token_not_found", "Token not found", "no token is named \"\(name.prefix(64))\"")
    }
}

/// A token's record as JSON: `name`, `role`, `tenant`, `createdAt`, `expiresAt`, `revokedAt`.
enum TokenJSON {
    static func token(_ record: TokenRecord) -> [UInt8] {
        var json = JSONWriter(capacity: 192)
        json.beginObject()
        json.key("name"); json.string(record.name)
        json.key("role"); json.string(record.role.rawValue)
        json.key("tenant"); json.string(record.tenant)
        json.key("createdAt"); json.string(Timestamp.format(record.createdAt))
        json.key("expiresAt"); json.string(record.expiresAt.map(Timestamp.format))
        json.key("revokedAt"); json.string(record.revokedAt.map(Timestamp.format))
        json.endObject()
        return json.bytes
    }
}
