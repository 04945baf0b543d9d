/// `vfiod completion bash`: a bash completion script for every command and its options.
enum CompletionCommand {
    static let command = ClientCommand(
        name: "completion", synopsis: "completion bash",
        summary: "Print a bash completion script: source <(vfiod completion bash).",
        details: "Completes commands, each command's options, and device addresses (from the server) after devices, lease and reset.",
        options: ["bash"], run: run)

    /// The service's own commands, completed beside the client's.
    static let serviceCommands = ["serve", "migrate", "token", "help"]

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        let words = try arguments.positionals(max: 1, command: "completion")
        guard words == ["bash"] else { throw .usage("usage: vfiod completion bash (bash is the one shell supported)") }
        session.terminal.raw(script())
        return 0
    }

    /// The script.
    static func script() -> String {
        let commands = (CommandCatalog.all.map(\.name) + serviceCommands).joined(separator: " ")
        let cases = CommandCatalog.all.map { command in
            "        \(command.name)) opts=\"\((command.options + SharedOptions.names).joined(separator: " "))\" ;;"
        }.joined(separator: "\n")
        return """
        # bash completion for vfiod: source <(vfiod completion bash)
        _vfiod() {
            local cur prev opts
            cur="${COMP_WORDS[COMP_CWORD]}"
            prev="${COMP_WORDS[COMP_CWORD-1]}"
            if [ "$COMP_CWORD" -eq 1 ]; then
                COMPREPLY=($(compgen -W "\(commands) --help --version" -- "$cur"))
                return
            fi
            case "$prev" in
                -o) COMPREPLY=($(compgen -W "json table" -- "$cur")); return ;;
                --export) COMPREPLY=($(compgen -W "jsonl csv" -- "$cur")); return ;;
                --method) COMPREPLY=($(compgen -W "function hot" -- "$cur")); return ;;
                --escalation) COMPREPLY=($(compgen -W "wait terminate kill" -- "$cur")); return ;;
                --token-file|--cacert|--db|--config|--simulate) COMPREPLY=($(compgen -f -- "$cur")); return ;;
            esac
            case "${COMP_WORDS[1]}" in
        \(cases)
                help) COMPREPLY=($(compgen -W "\(commands)" -- "$cur")); return ;;
                token) opts="create list revoke --db --name --role --tenant --expires-in" ;;
                *) opts="" ;;
            esac
            if [[ "$cur" != -* ]]; then
                case "${COMP_WORDS[1]}" in
                    devices|lease|reset)
                        COMPREPLY=($(compgen -W "$(vfiod devices -o json 2>/dev/null | grep -o '"address":"[^"]*"' | cut -d'"' -f4)" -- "$cur"))
                        return ;;
                esac
            fi
            COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        }
        complete -F _vfiod vfiod

        """
    }
}
