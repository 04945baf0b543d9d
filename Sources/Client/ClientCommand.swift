/// One client command: its name, its help, and what it does.
struct ClientCommand: Sendable {
    /// The word after `vfiod`.
    let name: String
    /// The synopsis after `vfiod `, such as `devices [ADDR] [--state S]`.
    let synopsis: String
    /// One line on what it does.
    let summary: String
    /// Paragraphs `vfiod help NAME` prints after the synopsis.
    let details: String
    /// Its own options, for completion.
    let options: [String]
    /// Runs it with its arguments (after the name, shared options already read) and returns the exit status.
    let run: @Sendable (inout Arguments, Session) throws(ClientError) -> Int32
}

/// What a running command works with: the settings, the API, the terminal.
struct Session: Sendable {
    /// The shared options.
    let settings: ClientSettings
    /// The server.
    let api: APIConnection
    /// Standard output and error.
    let terminal: Terminal

    /// Whether `-o json` was asked for.
    var json: Bool { settings.output == .json }

    /// Prints a reply's body as the API sent it (for `-o json`).
    func printBody(_ reply: HTTPReply) { terminal.bytes(reply.body) }
}

/// The shared options every client command takes, for help and completion.
enum SharedOptions {
    /// Their names.
    static let names = ["--server", "--token-file", "--cacert", "-o"]

    /// What they mean, as `vfiod help` prints it.
    static let help = """
    Shared options (after the command):
      --server URL       the vfiod to talk to; else VFIOD_SERVER, else http://127.0.0.1:8460
      --token-file PATH  read the bearer token from PATH; else VFIOD_TOKEN (never a flag value: ps shows those)
      --cacert PATH      CA certificates (PEM) for an https server, instead of the system's
      -o json            print exactly the API's JSON instead of a table
    Exit status: 0 ok; 1 the operation (or the check) failed; 2 usage; 3 refused by the server (its problem's
    code, title and detail on standard error); 4 the server could not be reached.
    Colour only on a terminal; NO_COLOR turns it off.
    """
}
