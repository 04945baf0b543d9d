/// One schema change: a file `migrations/NNNN_name.sql` compiled into vfiod.
public struct Migration: Sendable, Hashable {
    /// The number in the file name (`0001_device_identities.sql` → 1); migrations apply in this order.
    public let version: Int
    /// The rest of the file name without `.sql` (`device_identities`).
    public let name: String
    /// The file's contents, run with `sqlite3_exec` inside the migration's transaction. It must not open
    /// or end transactions itself, and `PRAGMA foreign_keys` has no effect inside it.
    public let sql: String
    /// SHA-256 of the file's bytes, 64 hex digits: recorded when applied, compared on every start.
    public let checksum: String

    /// Makes a migration from its parts (tests inject lists of these into `Migrator`).
    init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hexDigest(sql.utf8)
    }

    /// Makes a migration from a file name `NNNN_name.sql` and its bytes; nil when the name does not fit.
    init?(fileName: String, contents: [UInt8]) {
        guard fileName.hasSuffix(".sql"), let separator = fileName.firstIndex(of: "_") else { return nil }
        let digits = fileName[..<separator]
        let name = fileName[fileName.index(after: separator)...].dropLast(4)
        guard digits.count == 4, digits.allSatisfy(\.isASCII), let version = Int(digits), version > 0,
              !name.isEmpty, let sql = String(validating: contents, as: UTF8.self)
        else { return nil }
        self.version = version
        self.name = String(name)
        self.sql = sql
        self.checksum = SHA256.hexDigest(contents)
    }

    /// The file name this migration came from, `NNNN_name.sql`.
    public var fileName: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }
}
