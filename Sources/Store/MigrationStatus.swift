/// A migration recorded in `schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    /// Its version.
    public let version: Int
    /// Its name when applied.
    public let name: String
    /// When it was applied, as stored: RFC 3339 UTC with milliseconds.
    public let appliedAt: String
    /// SHA-256 of the file when applied.
    public let checksum: String
}

/// Where a database stands against the migrations compiled into this vfiod.
public struct MigrationStatus: Sendable, Equatable {
    /// Migrations recorded in the database, by version.
    public let applied: [AppliedMigration]
    /// Known migrations not yet applied, by version.
    public let pending: [Migration]
    /// The newest migration this vfiod knows (0 when it knows none).
    public let knownVersion: Int
    /// What `Migrator.apply(to:)` would refuse the database for, if anything.
    public let problems: [MigrationError]

    /// The highest recorded version (0 for a new database).
    public var databaseVersion: Int { applied.map(\.version).max() ?? 0 }

    /// Whether the database has every known migration and nothing wrong.
    public var isUpToDate: Bool { pending.isEmpty && problems.isEmpty }
}
