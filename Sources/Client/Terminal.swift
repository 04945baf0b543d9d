import Foundation

/// Where the client writes: standard output for results, standard error for problems and notes, each
/// written at once (progress lines must show as they happen), with colour when the settings allow it.
struct Terminal: Sendable {
    /// Whether to colour standard output.
    let colour: Bool

    /// ANSI colours the client uses.
    enum Colour: String, Sendable {
        case green = "32", yellow = "33", red = "31", blue = "34", dim = "2", bold = "1"
    }

    /// Writes `text` and a newline to standard output.
    func line(_ text: String = "") { Self.write(Array((text + "\n").utf8), to: STDOUT_FILENO) }

    /// Writes `text` as it is (no newline) to standard output.
    func raw(_ text: String) { Self.write(Array(text.utf8), to: STDOUT_FILENO) }

    /// Writes bytes as they are to standard output, with a final newline when they lack one.
    func bytes(_ bytes: [UInt8]) {
        var copy = bytes
        if copy.last != UInt8(ascii: "\n") { copy.append(UInt8(ascii: "\n")) }
        Self.write(copy, to: STDOUT_FILENO)
    }

    /// Writes `text` and a newline to standard error.
    static func error(_ text: String) { write(Array((text + "\n").utf8), to: STDERR_FILENO) }

    /// `text` in `colour` when colouring, else as it is.
    func paint(_ text: String, _ colour: Colour) -> String {
        self.colour ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// A state word coloured by what it means: green for good, yellow for in between, red for trouble.
    func state(_ word: String) -> String {
        switch word {
        case "available", "active", "succeeded", "done", "released", "completed_on_recovery", "yes", "ok": paint(word, .green)
        case "binding", "releasing", "queued", "running", "intent", "expiring": paint(word, .yellow)
        case "failed", "quarantined", "rolled_back", "lost", "no", "broken": paint(word, .red)
        case "protected", "host", "-": paint(word, .dim)
        default: word
        }
    }

    /// Writes every byte with write(2), unbuffered, so lines show as they happen; a closed pipe ends the
    /// writing (the reader went away), not the process.
    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                // write(2) reads from the array's storage, which lives for the whole closure.
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
