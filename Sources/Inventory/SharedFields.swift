/// A value's fields in one shared immutable box: copying the value costs one reference count, not one
/// per string and array inside; changing a field makes a new box. `Device` and `IOMMUGroup` keep their
/// fields in one (every snapshot holds all of them, and each publish copies the arrays).
struct SharedFields<Fields: Sendable & Hashable>: Sendable, Hashable {
    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    init(_ fields: Fields) {
        box = Box(fields)
    }

    /// The fields.
    var fields: Fields { box.fields }

    /// Changes the fields through a new box (others holding the old one keep their value).
    mutating func update(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    /// Equal fields; the same box is equal without looking inside.
    static func == (lhs: SharedFields, rhs: SharedFields) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    /// Hashes the fields.
    func hash(into hasher: inout Hasher) {
        box.fields.hash(into: &hasher)
    }
}
