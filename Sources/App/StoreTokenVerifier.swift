import ServiceLog
import API
import Foundation
import Store
import Synchronization
import Workers

/// Bearer tokens checked against the store's hashes, on a thread of their own.
///
/// A token is looked up in `tokens` (one indexed read on a read-only connection, which never waits for
/// the writer) unless it can be vouched for at once (looked up less than a second ago, nothing committed
/// since, not expired): a revocation or expiry committed by any process, this
/// one's API or `vfiod token revoke` beside it, is seen by the very next request. A token verified before is vouched
/// for again without a lookup (`immediatePrincipal`) only while nobody has committed to the database
/// since the version read before its lookup (`DataVersionProbe`), and never at or past its expiry.
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
        /// The database's data version read before the lookup that verified it (nil: unknown).
        let version: DataVersionProbe.Version?
    }

    private let database: Database
    /// Whether anyone committed since a token was verified.
    private let probe: DataVersionProbe
    /// Token lookups run here rather than on the store thread, so a long store job (an audit
    /// verification, an export) does not hold up every request's authentication.
    private let executor = DedicatedExecutor(name: "vfiod-tokens", queueLimit: 4096, stuckAfterSeconds: 30)
    private let verified = Mutex<[SHA256.Digest: Verified]>([:])
    /// Whether the last lookup failed (read without a lock on every request).
    private let failing = Atomic(false)
    private let graceSeconds: Double
    private static let rememberedLimit = 4096
    /// How long a lookup vouches for its token on the immediate path (while the database is unchanged).
    private static let recheckSeconds = 1.0

    /// Checks tokens in `database`; `outageGraceSeconds` bounds how long a verified token outlives a
    /// database failure (0: not at all).
    init(database: Database, outageGraceSeconds: Double) {
        self.database = database
        self.graceSeconds = max(0, outageGraceSeconds)
        self.probe = DataVersionProbe(path: database.path)
    }

    func verify(_ token: String) async -> TokenVerdict {
        let key = SHA256.digest(token.utf8)
        let now = Date()
        let database = database
        // Read before the lookup: a commit after this moment changes the version the cache entry holds.
        let version = probe.current()
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
                verified[key] = Verified(principal: principal, expiresAt: record.expiresAt, at: now, version: version)
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

    /// The principal of a token verified while the database was as it is now, before its expiry; nil
    /// (ask `verify`) otherwise, and while the database fails. Runs on the caller's thread and never waits.
    func immediatePrincipal(_ token: String) -> Principal? {
        guard !failing.load(ordering: .acquiring) else { return nil }
        // Keyed by the digest's words, not its hex text: no allocation, and a cheaper hash.
        let key = SHA256.digest(token.utf8)
        guard let known = verified.withLock({ $0[key] }), let version = known.version else { return nil }
        let now = Date()
        // Looked up again at least every second, so a database that stopped answering is noticed (and
        // the outage grace applies) as before; and never at or past the expiry.
        guard now.timeIntervalSince(known.at) < Self.recheckSeconds else { return nil }
        if let expiresAt = known.expiresAt, now >= expiresAt { return nil }
        guard probe.current() == version else { return nil }
        return known.principal
    }

    func revoked(name: String) {
        verified.withLock { verified in verified = verified.filter { $0.value.principal.name != name } }
    }

    /// Stops the lookup thread after the calls already queued.
    func shutdown(timeout: Duration) async {
        _ = await executor.shutdown(timeout: timeout)
    }

    /// The answer while the database cannot be read: the last good one if it is recent enough.
    private func outage(_ key: SHA256.Digest, _ now: Date, _ error: any Error) -> TokenVerdict {
        let reason = (error as? DatabaseError).map { "the database cannot be read: \($0.message) (SQLite code \($0.code))" }
            ?? "the token store failed: \(error)"
        if !failing.exchange(true, ordering: .acquiringAndReleasing) {
            Log.warning("token checks: \(reason); tokens verified in the last \(Int(graceSeconds)) s keep working")
        }
        guard let known = verified.withLock({ $0[key] }), now.timeIntervalSince(known.at) < graceSeconds,
              known.expiresAt.map({ now < $0 }) ?? true
        else { return .unavailable(reason: reason) }
        return .valid(known.principal)
    }

    private func recovered() {
        if failing.exchange(false, ordering: .acquiringAndReleasing) {
            Log.info("token checks: the database answers again")
        }
    }
}
