import ServiceLog
import API
import Foundation
import Store
import Synchronization
import Workers

/// Bearer tokens checked against the store's hashes, on a thread of their own.
///
/// Every request's token is looked up in `tokens` (one indexed read on a read-only connection, which
/// never waits for the writer): a revocation or expiry committed by any process, this one's API or
/// `vfiod token revoke` beside it, is seen by the very next request. Nothing is cached for speed.
///
/// What is kept is the last good answer for each token, by its SHA-256 (so the process holds no more
/// secrets than the database): while the database cannot be read, a token verified in the last
/// `outageGraceSeconds` keeps working until that time is up (and not past its expiry); any other token
/// gets `.unavailable`, which the API answers `503` `storage_unavailable`, never `401`. A revocation
/// through the API removes the token from what is kept at once (`revoked(name:)`). One made by another
/// process while this one cannot read the database cannot be seen until it can again, or the grace ends.
final class StoreTokenVerifier: TokenVerifier {
    private struct Verified {
        let principal: Principal
        let expiresAt: Date?
        let at: Date
    }

    private let database: Database
    /// Token lookups run here rather than on the store thread, so a long store job (an audit
    /// verification, an export) does not hold up every request's authentication.
    private let executor = DedicatedExecutor(name: "vfiod-tokens", queueLimit: 4096, stuckAfterSeconds: 30)
    private let verified = Mutex<[String: Verified]>([:])
    private let failing = Mutex(false)
    private let graceSeconds: Double
    private static let rememberedLimit = 4096

    /// Checks tokens in `database`; `outageGraceSeconds` bounds how long a verified token outlives a
    /// database failure (0: not at all).
    init(database: Database, outageGraceSeconds: Double) {
        self.database = database
        self.graceSeconds = max(0, outageGraceSeconds)
    }

    func verify(_ token: String) async -> TokenVerdict {
        let key = SHA256.hexDigest(Array(token.utf8))
        let now = Date()
        let database = database
        let check: TokenCheck
        do {
            check = try await executor.run(label: "token lookup") { try TokenStore(database: database).check(token: token, at: now) }
        } catch {
            return outage(key, now, error)
        }
        recovered()
        switch check {
        case .valid(let record):
            let principal = Principal(name: record.name, role: record.role, tenant: record.tenant)
            verified.withLock { verified in
                if verified.count >= Self.rememberedLimit, verified[key] == nil { verified.removeAll() }
                verified[key] = Verified(principal: principal, expiresAt: record.expiresAt, at: now)
            }
            return .valid(principal)
        case .expired(let record):
            verified.withLock { $0[key] = nil }
            return .expired(at: record.expiresAt ?? now)
        case .unknown:
            verified.withLock { $0[key] = nil }
            return .unknown
        }
    }

    func revoked(name: String) {
        verified.withLock { verified in verified = verified.filter { $0.value.principal.name != name } }
    }

    /// Stops the lookup thread after the calls already queued.
    func shutdown(timeout: Duration) async {
        _ = await executor.shutdown(timeout: timeout)
    }

    /// The answer while the database cannot be read: the last good one if it is recent enough.
    private func outage(_ key: String, _ now: Date, _ error: any Error) -> TokenVerdict {
        let reason = (error as? DatabaseError).map { "the database cannot be read: \($0.message) (SQLite code \($0.code))" }
            ?? "the token store failed: \(error)"
        if failing.withLock({ state in defer { state = true }; return !state }) {
            Log.warning("token checks: \(reason); tokens verified in the last \(Int(graceSeconds)) s keep working")
        }
        guard let known = verified.withLock({ $0[key] }), now.timeIntervalSince(known.at) < graceSeconds,
              known.expiresAt.map({ now < $0 }) ?? true
        else { return .unavailable(reason: reason) }
        return .valid(known.principal)
    }

    private func recovered() {
        if failing.withLock({ state in defer { state = false }; return state }) {
            Log.info("token checks: the database answers again")
        }
    }
}
