/// Every client command, in the order `vfiod --help` lists them.
enum CommandCatalog {
    /// The commands.
    static let all: [ClientCommand] = [
        StatusCommand.command, DeviceCommand.command, GroupCommand.command, LeaseCommand.command,
        AssignmentCommands.list, AssignmentCommands.renew, AssignmentCommands.release, OperationCommand.command,
        ResetCommands.reset, ResetCommands.quarantine, AuditCommand.command, EventsCommand.command,
        CompletionCommand.command,
    ]

    /// The command called `name`.
    static func command(named name: String) -> ClientCommand? { all.first { $0.name == name } }
}
