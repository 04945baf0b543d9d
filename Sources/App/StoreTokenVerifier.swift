import API
import Foundation
import Store
import Synchronization
import Workers

/// Bearer tokens checked against the store's hashes, on the store thread. A found token is remembered
/// for a few seconds so a busy client does not cost a query per request; a revoked one stops working
/// within that time.
final class StoreTokenVerifier: TokenVerifier {
    private let database: Database
    private let executor: DedicatedExecutor
    private let cache = Mutex<[String: (principal: Principal, until: Date)]>([:])
    private static let cacheSeconds = 5.0

    init(database: Database, executor: DedicatedExecutor) {
        self.database = database
        self.executor = executor
    }

    func principal(for token: String) async -> Principal? {
        let now = Date()
        // Remember tokens by their hash, so the process memory holds no more secrets than the database.
        let key = SHA256.hexDigest(Array(token.utf8))
        if let cached = cache.withLock({ $0[key] }), cached.until > now { return cached.principal }
        let database = database
        let record = try? await executor.run(label: "token lookup") { try TokenStore(database: database).lookup(token: token) }
        guard let record = record ?? nil else {
            cache.withLock { $0[key] = nil }
            return nil
        }
        let principal = Principal(name: record.name, role: record.role, tenant: record.tenant)
        cache.withLock { cache in
            if cache.count > 1024 { cache.removeAll() }
            cache[key] = (principal, now.addingTimeInterval(Self.cacheSeconds))
        }
        return principal
    }
}
