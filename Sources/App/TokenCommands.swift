import Foundation
import Store

extension Command {
    static let tokenUsage = "usage: vfiod token create --db PATH --name NAME --role ROLE [--tenant T] [--expires-in 30d] | "
        + "vfiod token list --db PATH | vfiod token revoke NAME --db PATH"

    /// Parses `vfiod token create|list|revoke …` (the arguments after `token`).
    static func tokenCommand(_ arguments: [String]) throws(ConfigurationError) -> Command {
        guard let verb = arguments.first else { throw ConfigurationError(tokenUsage) }
        var options = Options(Array(arguments.dropFirst()))
        let db = try options.value("--db")
        switch verb {
        case "create":
            guard let db else { throw ConfigurationError("token create needs --db PATH") }
            guard let name = try options.value("--name") else { throw ConfigurationError("token create needs --name NAME") }
            guard let role = try options.value("--role") else { throw ConfigurationError("token create needs --role viewer|operator|auditor|admin") }
            let tenant = try options.value("--tenant")
            let expiresIn = try options.value("--expires-in").map { text throws(ConfigurationError) in try duration(text) }
            try options.finish()
            return .createToken(databasePath: db, name: name, role: role, tenant: tenant, expiresInSeconds: expiresIn)
        case "list":
            guard let db else { throw ConfigurationError("token list needs --db PATH") }
            try options.finish()
            return .listTokens(databasePath: db)
        case "revoke":
            guard let db else { throw ConfigurationError("token revoke needs --db PATH") }
            let names = options.takeRemaining()
            guard names.count == 1, let name = names.first, !name.hasPrefix("-") else {
                throw ConfigurationError("token revoke needs one NAME and --db PATH, got \(names)")
            }
            return .revokeToken(databasePath: db, name: name)
        default:
            throw ConfigurationError(tokenUsage)
        }
    }

    /// The longest `--expires-in`: ten years.
    static let longestExpiry = 3650 * 86_400

    /// Seconds of `--expires-in`: a whole number of seconds, minutes, hours or days (`45s`, `90m`, `12h`,
    /// `30d`), at least one second and at most ten years.
    static func duration(_ text: String) throws(ConfigurationError) -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let problem = ConfigurationError("--expires-in: expected a whole number and s, m, h or d (such as 90m or 30d), "
                                         + "from 1s to 3650d; got \"\(text.prefix(32))\"")
        guard let unit = text.last, let factor = units[unit], text.dropLast().allSatisfy(\.isASCII),
              text.dropLast().allSatisfy(\.isNumber), let value = Int(text.dropLast()), value >= 1 else { throw problem }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow, seconds <= longestExpiry else { throw problem }
        return seconds
    }
}

/// `vfiod token create|list|revoke`: the command line's side of the token store. A token is printed
/// once, by `create`; nothing prints a token or its hash again. Creating and revoking are audited with
/// the actor `cli`.
enum TokenCommands {
    /// Prints the new token alone on standard output, once; the store keeps only its hash.
    static func create(_ path: String, name: String, role: String, tenant: String?, expiresInSeconds: Int?) -> Int32 {
        guard let tokenRole = TokenRole(rawValue: role) else {
            VFIODMain.printError("vfiod: cannot create token: --role must be viewer, operator, auditor or admin")
            return 2
        }
        do {
            let database = try Database(path: path)
            _ = try Migrator().apply(to: database)
            let now = Date()
            let expiresAt = expiresInSeconds.map { now.addingTimeInterval(Double($0)) }
            let (token, _) = try TokenStore(database: database).create(name: name, role: tokenRole, tenant: tenant,
                                                                       expiresAt: expiresAt, actor: "cli", at: now)
            print(token)
            return 0
        } catch {
            VFIODMain.printError("vfiod: cannot create token: \(error)")
            return 1
        }
    }

    /// Prints one line per token: name, role, tenant, created, expires, revoked (`-` for none).
    static func list(_ path: String) -> Int32 {
        do {
            let records = try TokenStore(database: try existing(path)).list()
            let header = ["NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "REVOKED"]
            let rows = records.map { record in
                [record.name, record.role.rawValue, record.tenant ?? "-", Timestamp.format(record.createdAt),
                 record.expiresAt.map(Timestamp.format) ?? "-", record.revokedAt.map(Timestamp.format) ?? "-"]
            }
            print(table([header] + rows), terminator: "")
            return 0
        } catch {
            VFIODMain.printError("vfiod: cannot list tokens: \(error)")
            return 1
        }
    }

    /// Revokes the token; a running vfiod on the same database refuses it from its next request.
    static func revoke(_ path: String, name: String) -> Int32 {
        do {
            let now = Date()
            let record = try TokenStore(database: try existing(path)).revoke(name: name, actor: "cli", at: now)
            let when = record.revokedAt.map(Timestamp.format) ?? "?"
            // The store keeps the first revocation time: this call's own time means this call revoked it.
            if when == Timestamp.format(now) {
                print("vfiod: revoked token \(record.name) (\(record.role.rawValue))")
            } else {
                print("vfiod: token \(record.name) (\(record.role.rawValue)) was already revoked at \(when)")
            }
            return 0
        } catch {
            VFIODMain.printError("vfiod: cannot revoke token \(name): \(error)")
            return 1
        }
    }

    /// The database at `path`, migrated; a missing file is an error here rather than a new database.
    private static func existing(_ path: String) throws -> Database {
        guard FileManager.default.fileExists(atPath: path) else { throw CommandError("no database at \(path)") }
        let database = try Database(path: path)
        _ = try Migrator().apply(to: database)
        return database
    }

    /// Rows as left-aligned columns two spaces apart, one line each.
    private static func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }.joined()
    }

    private struct CommandError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
