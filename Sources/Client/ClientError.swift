/// Why a client command stopped, and the exit status each reason gives: scripts branch on these.
public enum ClientError: Error, Sendable, Equatable {
    /// The operation (or the check) ran and failed: exit 1.
    case failed(String)
    /// The command line was wrong: exit 2.
    case usage(String)
    /// The server refused the request with a problem: exit 3; its code, title and detail go to stderr.
    case refused(status: Int, code: String, title: String, detail: String?)
    /// The server could not be reached (or did not answer HTTP): exit 4.
    case unreachable(String)

    /// The process exit status for this error.
    public var exitStatus: Int32 {
        switch self {
        case .failed: 1
        case .usage: 2
        case .refused: 3
        case .unreachable: 4
        }
    }

    /// The lines printed on standard error, without the `vfiod: ` prefix.
    public var message: String {
        switch self {
        case .failed(let text): text
        case .usage(let text): text
        case .refused(let status, let code, let title, let detail):
            "refused (\(status)): \(code): \(title)" + (detail.map { "\n\($0)" } ?? "")
        case .unreachable(let text): "cannot reach the server: \(text)"
        }
    }
}
