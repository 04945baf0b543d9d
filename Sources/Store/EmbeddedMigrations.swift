extension Migration {
    /// The files in the top-level `migrations/` folder, compiled in through the `Sources/Store/Migrations`
    /// symlink and `.embedInCode` (which names `0001_x.sql` `_001_x_sql`; SwiftPM offers no list of them).
    ///
    /// Adding a migration: add the file to `migrations/`, then a line here. `StoreTests` fails when this
    /// list and the folder differ in names or bytes.
    static let embeddedFiles: [(fileName: String, contents: [UInt8])] = [
        ("0001_device_identities.sql", PackageResources._001_device_identities_sql),
        ("0002_audit_and_tokens.sql", PackageResources._002_audit_and_tokens_sql),
        ("0003_assignments_and_journal.sql", PackageResources._003_assignments_and_journal_sql),
        ("0004_reset_quarantine_cooperative_release.sql", PackageResources._004_reset_quarantine_cooperative_release_sql),
        ("0005_token_expiry_and_revocation.sql", PackageResources._005_token_expiry_and_revocation_sql),
        ("0006_idempotency_operation.sql", PackageResources._006_idempotency_operation_sql),
        ("0007_audit_layout_and_archive.sql", PackageResources._007_audit_layout_and_archive_sql),
        ("0008_assignment_holder_uid.sql", PackageResources._008_assignment_holder_uid_sql),
        ("0009_checks_without_temporary_tables.sql", PackageResources._009_checks_without_temporary_tables_sql),
    ]

    /// The migrations compiled into this vfiod, in version order.
    public static let embedded: [Migration] = embeddedFiles.map { file in
        guard let migration = Migration(fileName: file.fileName, contents: file.contents) else {
            preconditionFailure("migration file \(file.fileName) is not named NNNN_name.sql or is not UTF-8")
        }
        return migration
    }.sorted { $0.version < $1.version }
}
