import Assignments
import HTTPServer
import Store
import Synchronization

/// `GET /v1/assignments/{id}` answered from memory while the database is unchanged.
///
/// An assignment read from the store is kept, encoded, with the database's data version read before
/// that read (`DataVersionProbe`). It is served again, at once on the server's thread, only while the
/// version is the same: any commit, by this process or another, sends the next read to the store. So a
/// cached answer is always what the store would answer now; a busy host simply reads the store.
final class AssignmentReadCache: Sendable {
    private struct Entry: Sendable {
        let version: DataVersionProbe.Version
        let tenant: String
        let body: [UInt8]
        let etag: String
        /// The newest audit seq the read saw (the response's cursor).
        let auditSeq: Int64
    }

    private let probe: DataVersionProbe
    private let entries = Mutex<[String: Entry]>([:])
    /// Assignments kept at most; past it the cache starts again empty.
    private static let limit = 4096

    /// A cache checked against the database at `path`.
    init(databasePath: String) {
        probe = DataVersionProbe(path: databasePath)
    }

    /// The data version to store with a read about to start (nil: do not cache it).
    func versionBeforeRead() -> DataVersionProbe.Version? { probe.current() }

    /// Keeps `assignment` as read at `version`, by a read that saw audit seq `auditSeq`.
    func store(_ assignment: Assignment, version: DataVersionProbe.Version?, auditSeq: Int64) {
        guard let version else { return }
        let entry = Entry(version: version, tenant: assignment.holder.tenant, body: AssignmentJSON.assignment(assignment),
                          etag: AssignmentETag.of(generation: assignment.generation), auditSeq: auditSeq)
        entries.withLock { entries in
            if entries.count >= Self.limit, entries[assignment.id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[assignment.id] = entry
        }
    }

    /// The `200` for assignment `id` as a caller limited to `tenant` (nil: every tenant) would get it from
    /// the store now, with the audit seq its read saw; nil when not cached, not visible to that caller, or
    /// the database changed since.
    func response(_ id: String, tenant: String?) -> (HTTPResponse, auditSeq: Int64)? {
        guard let entry = entries.withLock({ $0[id] }), tenant == nil || tenant == entry.tenant,
              probe.current() == entry.version else { return nil }
        var response = HTTPResponse.json(entry.body)
        response.headers.append(("ETag", entry.etag))
        return (response, entry.auditSeq)
    }
}
