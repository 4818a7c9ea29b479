import Foundation

/// Which column type changes keep every value, so that only the others are marked destructive.
///
/// Conservative: a change not known to widen is treated as one that may lose data or fail.
package enum TypeWidening {
    /// Integer and floating types by rank within their family.
    private static let integers = ["smallint": 1, "integer": 2, "bigint": 3]
    private static let floats = ["real": 1, "double precision": 2]

    package static func isWidening(from old: String, to new: String) -> Bool {
        if old == new { return true }
        // Every value has a text form, and reads back from it.
        if new == "text" || new == "character varying" { return true }
        let (oldBase, oldMod) = split(old), (newBase, newMod) = split(new)
        if let a = integers[old], let b = integers[new] { return a <= b }
        if integers[old] != nil, newBase == "numeric" { return newMod.isEmpty }
        if let a = floats[old], let b = floats[new] { return a <= b }
        if oldBase == "numeric", newBase == "numeric" {
            guard let (np, ns) = precision(newMod) else { return true }
            guard let (op, os) = precision(oldMod) else { return false }
            return ns >= os && np - ns >= op - os
        }
        if ["character varying", "character"].contains(oldBase), newBase == "character varying" {
            guard let newLength = newMod.first else { return true }
            guard let oldLength = oldMod.first else { return false }
            return newLength >= oldLength
        }
        return false
    }

    /// `numeric(10,2)` -> ("numeric", [10, 2]).
    private static func split(_ type: String) -> (String, [Int]) {
        guard let open = type.firstIndex(of: "("), type.hasSuffix(")") else { return (type, []) }
        let inside = type[type.index(after: open)..<type.index(before: type.endIndex)]
        return (String(type[..<open]), inside.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }

    private static func precision(_ mod: [Int]) -> (Int, Int)? {
        mod.isEmpty ? nil : (mod[0], mod.count > 1 ? mod[1] : 0)
    }
}
