/// Why `Migrator` refused a database or failed to bring it up to date.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database was migrated by a newer vfiod: running an older one against it could corrupt it.
    case databaseNewer(databaseVersion: Int, knownVersion: Int)
    /// An applied migration's file was changed after it ran: the schema is not what the file says.
    case checksumMismatch(version: Int, name: String, recorded: String, embedded: String)
    /// The database records a migration this vfiod does not have (a gap below its newest).
    case unknownMigration(version: Int, name: String)
    /// Two migrations in the list share a version.
    case duplicateVersion(Int)
    /// A migration's SQL failed; its transaction was rolled back and its version not recorded.
    case migrationFailed(version: Int, name: String, underlying: DatabaseError)

    /// One line for logs and the `migrate` command.
    public var description: String {
        switch self {
        case let .databaseNewer(databaseVersion, knownVersion):
            "database schema version \(databaseVersion) is newer than this vfiod (knows up to \(knownVersion)); upgrade vfiod"
        case let .checksumMismatch(version, name, recorded, embedded):
            "migration \(version) (\(name)) was changed after it was applied: recorded checksum \(recorded), "
                + "this vfiod has \(embedded); restore the original file and add a new migration instead"
        case let .unknownMigration(version, name):
            "database records migration \(version) (\(name)) that this vfiod does not know"
        case let .duplicateVersion(version):
            "two migrations have version \(version)"
        case let .migrationFailed(version, name, underlying):
            "migration \(version) (\(name)) failed and was rolled back: \(underlying)"
        }
    }
}
