import Foundation

/// Brings a database's schema up to date with the migrations compiled into vfiod.
///
/// Each pending migration runs in its own `BEGIN IMMEDIATE` transaction together with its row in
/// `schema_migrations(version, name, applied_at, checksum)`, so a failing migration leaves neither schema
/// changes nor a record, and two processes migrating at once apply each migration once. A database that
/// is newer than this vfiod, or whose applied migrations differ from the compiled-in files, is refused.
public struct Migrator: Sendable {
    /// The migrations this migrator knows, in version order.
    public let migrations: [Migration]

    /// A migrator for the migrations compiled into vfiod (`Migration.embedded`).
    public init() {
        self.init(migrations: Migration.embedded)
    }

    /// A migrator for the compiled-in migrations up to `version`: builds a database as an older vfiod
    /// left it (the benchmark migrates such a history to measure the migration and compare layouts).
    public init(throughVersion version: Int) {
        self.init(migrations: Migration.embedded.filter { $0.version <= version })
    }

    /// A migrator for another list of migrations (tests inject broken or extra ones).
    init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The newest version this migrator knows (0 when it knows none).
    public var knownVersion: Int { migrations.last?.version ?? 0 }

    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            checksum   TEXT NOT NULL
        )
        """

    /// Applies every pending migration in version order and returns the versions applied (empty when the
    /// database was up to date). Throws `MigrationError` when the database is refused or a migration
    /// fails, `DatabaseError` when the database itself fails; migrations applied before a failure stay.
    @discardableResult
    public func apply(to database: Database) throws -> [Int] {
        var applied: [Int] = []
        while let version = try database.write(applyNext) {
            applied.append(version)
        }
        return applied
    }

    /// Applies the first pending migration inside the caller's transaction; nil when none is pending.
    private func applyNext(_ connection: Connection) throws -> Int? {
        try connection.execute(Self.createTableSQL)
        let recorded = try Self.recordedMigrations(connection)
        if let problem = problems(recorded).first { throw problem }
        let done = Set(recorded.map(\.version))
        guard let migration = migrations.first(where: { !done.contains($0.version) }) else { return nil }
        do {
            try connection.execute(migration.sql)
        } catch let error as DatabaseError {
            throw MigrationError.migrationFailed(version: migration.version, name: migration.name, underlying: error)
        }
        guard connection.isInTransaction else {
            // The migration ran COMMIT or ROLLBACK itself: its changes can no longer be undone as one.
            throw MigrationError.migrationFailed(
                version: migration.version, name: migration.name,
                underlying: DatabaseError(operation: .execute, code: 1,
                                          message: "the migration ended the transaction itself (COMMIT/ROLLBACK)",
                                          path: connection.path))
        }
        try connection.run("INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)",
                           .integer(Int64(migration.version)), .text(migration.name),
                           .text(Timestamp.format(Date())), .text(migration.checksum))
        return migration.version
    }

    /// Where `database` stands: applied, pending, and what `apply(to:)` would refuse. Reads only; a
    /// database never migrated has no `schema_migrations` table and reports every migration pending.
    public func status(of database: Database) throws -> MigrationStatus {
        let recorded = try database.read { connection in
            let tables = try connection.prepare(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            return try tables.map { $0.int64(0) }.first == 1 ? Self.recordedMigrations(connection) : []
        }
        let done = Set(recorded.map(\.version))
        return MigrationStatus(applied: recorded, pending: migrations.filter { !done.contains($0.version) },
                               knownVersion: knownVersion, problems: problems(recorded))
    }

    /// Everything wrong with `recorded` against the known migrations, the most important first.
    private func problems(_ recorded: [AppliedMigration]) -> [MigrationError] {
        var problems: [MigrationError] = []
        var byVersion: [Int: Migration] = [:]
        for migration in migrations {
            if byVersion.updateValue(migration, forKey: migration.version) != nil {
                problems.append(.duplicateVersion(migration.version))
            }
        }
        if let newest = recorded.map(\.version).max(), newest > knownVersion {
            problems.append(.databaseNewer(databaseVersion: newest, knownVersion: knownVersion))
        }
        for applied in recorded {
            if let migration = byVersion[applied.version] {
                if migration.checksum != applied.checksum {
                    problems.append(.checksumMismatch(version: applied.version, name: applied.name,
                                                      recorded: applied.checksum, embedded: migration.checksum))
                }
            } else if applied.version <= knownVersion {
                problems.append(.unknownMigration(version: applied.version, name: applied.name))
            }
        }
        return problems
    }

    private static func recordedMigrations(_ connection: Connection) throws -> [AppliedMigration] {
        try connection.prepare("SELECT version, name, applied_at, checksum FROM schema_migrations ORDER BY version")
            .map { row in
                AppliedMigration(version: Int(row.int64(0)), name: row.string(1), appliedAt: row.string(2),
                                 checksum: row.string(3))
            }
    }
}
