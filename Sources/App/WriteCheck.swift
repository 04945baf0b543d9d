import Store

/// Proves at start that the database takes writes. A read-only file, directory or mount opens and
/// migrates without a write when the schema is current, and vfiod would then serve and fail its first
/// lease; `vfiod serve` checks instead, and exits with one line.
enum WriteCheck {
    /// Commits one write that changes nothing: the newest migration's row is written back as it is.
    /// SQLite refuses it on a read-only database ("attempt to write a readonly database"), and it fails
    /// on any other fault that stops a commit (a lock held past the busy timeout, an I/O error).
    /// Throws `StartError`: "cannot write database PATH: SQLite's message (SQLite code N)".
    static func run(on database: Database) throws(StartError) {
        do {
            try database.write { connection in
                try connection.run("UPDATE schema_migrations SET applied_at = applied_at "
                                   + "WHERE version = (SELECT max(version) FROM schema_migrations)")
            }
        } catch let error as DatabaseError {
            throw StartError(description: "cannot write database \(database.path): \(error.message) (SQLite code \(error.code))")
        } catch {
            throw StartError(description: "cannot write database \(database.path): \(error)")
        }
    }
}
