/// Rows as left-aligned columns two spaces apart, under an upper-case header; widths count what shows,
/// not the colour codes around a cell.
struct Table {
    /// The header cells.
    let header: [String]
    /// The rows, each as many cells as the header.
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    /// Adds a row.
    mutating func add(_ cells: [String]) { rows.append(cells) }

    /// The table as lines (no trailing newline on the last), the header dimmed when colouring.
    func render(_ terminal: Terminal) -> String {
        var widths = header.map(Self.visibleWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], Self.visibleWidth(cell)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - Self.visibleWidth(cell))
            }.joined(separator: "  ")
        }
        return ([terminal.paint(line(header), .bold)] + rows.map(line)).joined(separator: "\n")
    }

    /// The width of `cell` without ANSI colour sequences.
    static func visibleWidth(_ cell: String) -> Int {
        var width = 0
        var escaped = false
        for character in cell {
            if escaped { if character == "m" { escaped = false }; continue }
            if character == "\u{1B}" { escaped = true; continue }
            width += 1
        }
        return width
    }
}

/// `key  value` lines with the keys aligned, for one object in detail.
struct Details {
    private var pairs: [(String, String)] = []

    /// Adds a line.
    mutating func add(_ key: String, _ value: String) { pairs.append((key, value)) }

    /// The lines.
    func render() -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { key, value in key + String(repeating: " ", count: width - key.count) + "  " + value }
            .joined(separator: "\n")
    }
}
