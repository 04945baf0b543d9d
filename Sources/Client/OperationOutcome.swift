/// What a command that started an operation prints: at once (the accepted object and how to follow it),
/// or, with `--wait`, the progress and then the final object, exiting 1 when the operation failed.
enum OperationOutcome {
    /// The path of the operation an accepted request names in `Operation-Location`.
    static func operationPath(_ reply: HTTPReply) throws(ClientError) -> String {
        guard let location = reply.header("Operation-Location") else {
            throw .unreachable("the server's 202 answer names no Operation-Location")
        }
        if location.hasPrefix("/") { return location }
        guard let scheme = location.range(of: "://"), let slash = location[scheme.upperBound...].firstIndex(of: "/") else {
            throw .unreachable("cannot read Operation-Location \(location)")
        }
        return String(location[slash...])
    }

    /// Follows the operation `accepted` started when `wait`, then prints `finalPath`'s object (the
    /// assignment) or, without one, the operation; without `wait` prints `accepted` and `summary`.
    static func finish(_ accepted: HTTPReply, summary: String, wait: Bool, finalPath: String?,
                       _ session: Session) throws(ClientError) -> Int32 {
        let path = try operationPath(accepted)
        guard wait else {
            if session.json {
                session.printBody(accepted)
            } else {
                session.terminal.line(summary)
                session.terminal.line("operation \(path.split(separator: "/").last ?? ""): follow it with vfiod operation "
                                      + "\(path.split(separator: "/").last ?? "") --follow")
            }
            return 0
        }
        let (reply, operation) = try OperationWatch(session: session, showProgress: !session.json).follow(path)
        let state = operation.text("state")
        if session.json {
            if let finalPath {
                session.printBody(try session.api.send("GET", finalPath))
            } else {
                session.printBody(reply)
            }
        } else if let finalPath, let object = try? JSONObject(parsing: try session.api.send("GET", finalPath).body) {
            session.terminal.line(AssignmentCommands.summary(object, session.terminal))
        }
        guard OperationWatch.succeeded(state) else {
            throw .failed("operation \(operation.text("id")) \(state)" + (operation.string("error").map { ": \($0)" } ?? ""))
        }
        return 0
    }
}
