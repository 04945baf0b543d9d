/// Why `AuditArchive` did not archive, or could not read its segments.
public enum AuditArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process (or task) holds the archive directory's lock: it is archiving now.
    case busy(directory: String)
    /// A file operation on the archive directory failed.
    case file(path: String, operation: String, errno: Int32)
    /// The rows to archive do not verify: they are not moved out (the history must be looked at first).
    case brokenChain(seq: Int64, reason: String)
    /// The checkpoint moved while this archive ran (another archiver committed first).
    case checkpointMoved(expected: Int64, found: Int64)
    /// `--before`/the policy asks for nothing that can be archived (the head row always stays).
    case invalidCutoff(String)

    /// One line for logs and the command line.
    public var description: String {
        switch self {
        case let .busy(directory): "another archive is running into \(directory)"
        case let .file(path, operation, errno): "cannot \(operation) \(path): errno \(errno)"
        case let .brokenChain(seq, reason): "the rows to archive do not verify at seq \(seq): \(reason); nothing archived"
        case let .checkpointMoved(expected, found):
            "the archive checkpoint moved from \(expected) to \(found) meanwhile; nothing archived by this run"
        case let .invalidCutoff(reason): "invalid archive cutoff: \(reason)"
        }
    }
}
