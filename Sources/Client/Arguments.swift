/// A command's arguments, consumed as they are read: `--name value`, `--name=value`, flags and
/// positionals; whatever is left at the end is a usage error.
struct Arguments {
    private var items: [String]

    init(_ items: [String]) { self.items = items }

    /// Whether nothing is left.
    var isEmpty: Bool { items.isEmpty }

    /// The last value of `name` (or of any of `aliases`), if given.
    mutating func value(_ name: String, aliases: [String] = []) throws(ClientError) -> String? {
        var found: String?
        for spelling in [name] + aliases {
            if let last = try values(spelling).last { found = last }
        }
        return found
    }

    /// Every value of a repeatable option, in order.
    mutating func values(_ name: String) throws(ClientError) -> [String] {
        var found: [String] = []
        var index = 0
        while index < items.count {
            let item = items[index]
            if item == "--" { break }
            if item == name {
                guard index + 1 < items.count else { throw .usage("\(name) needs a value") }
                found.append(items[index + 1])
                items.removeSubrange(index...(index + 1))
            } else if item.hasPrefix(name + "=") {
                found.append(String(item.dropFirst(name.count + 1)))
                items.remove(at: index)
            } else {
                index += 1
            }
        }
        return found
    }

    /// Whether the flag `name` was given (it is consumed).
    mutating func flag(_ name: String) -> Bool {
        guard let index = items.firstIndex(of: name) else { return false }
        items.remove(at: index)
        return true
    }

    /// The positional arguments left once the options are read; an unknown option is a usage error.
    mutating func positionals(max: Int, command: String) throws(ClientError) -> [String] {
        let rest = items.filter { $0 != "--" }
        items.removeAll()
        if let option = rest.first(where: { $0.hasPrefix("-") && $0.count > 1 }) {
            throw .usage("\(command): unknown option \(option); try vfiod help \(command)")
        }
        guard rest.count <= max else {
            throw .usage("\(command): unexpected argument \"\(rest[max])\"; try vfiod help \(command)")
        }
        return rest
    }

    /// Fails when anything is left unread.
    func finish(command: String) throws(ClientError) {
        if let first = items.first {
            throw .usage("\(command): unexpected argument \"\(first)\"; try vfiod help \(command)")
        }
    }
}
