import GreyoakPostgres
/// Resolving what a person types as a target: `head`, `heads`, `base`, a full id, a unique
/// prefix of 4+ characters, `-1`, `+2`, `REV+1`, `REV-2`, `head-1`, `base+1`.
extension RevisionGraph {
    /// Resolves a single revision identifier: a full id or a unique prefix of 4+ characters.
    ///
    /// - Throws: ``GreyoakError`` saying which revisions a prefix matched, or that none did.
    public func resolveID(_ text: String) throws -> String {
        if migrations[text] != nil { return text }
        let matches = text.count >= 4 ? loadOrder.filter { $0.hasPrefix(text) } : []
        switch matches.count {
        case 1:
            return matches[0]
        case 0:
            throw GreyoakError(.usage, "Can't locate revision identified by '\(text)'",
                               hint: text.count < 4 ? "give the full id or a prefix of at least 4 characters; `greyoak db history` lists them" : "`greyoak db history` lists the revisions")
        default:
            throw GreyoakError(.usage, "Multiple revisions start with '\(text)': \(matches.joined(separator: ", "))",
                               hint: "give more characters of the id")
        }
    }

    /// The single head, or an error when the graph has several (or none).
    public func singleHead() throws -> String {
        let heads = heads
        guard heads.count == 1 else {
            throw GreyoakError(.multipleHeads,
                               heads.isEmpty ? "There are no migrations" :
                               "Multiple head revisions are present for given argument 'head': \(heads.joined(separator: ", "))",
                               hint: heads.isEmpty ? nil : "specify a revision, use 'heads' for all heads, or merge them: `greyoak db merge heads -m \"merge heads\"`")
        }
        return heads[0]
    }

    /// Resolves a target to the set of revisions it names (empty for `base`).
    ///
    /// - Parameters:
    ///   - spec: What the user typed.
    ///   - current: The database's current heads, for the relative forms `+N` and `-N`.
    public func resolve(_ spec: String, current: [String]) throws -> [String] {
        switch spec {
        case "heads": return heads
        case "head": return [try singleHead()]
        case "base": return []
        default: break
        }
        if let (anchorText, steps) = Self.splitRelative(spec) {
            let anchor: [String]
            switch anchorText {
            case "":
                guard current.count <= 1 else {
                    throw GreyoakError(.multipleHeads,
                                       "Relative revision \(spec) needs a single current head; the database is at \(current.joined(separator: ", "))",
                                       hint: "name the revision to move from, as REV\(spec)")
                }
                anchor = current
            case "base": anchor = []
            case "head": anchor = [try singleHead()]
            default: anchor = [try resolveID(anchorText)]
            }
            return try walk(from: anchor, steps: steps, spec: spec)
        }
        return [try resolveID(spec)]
    }

    /// `+2` → ("", 2); `abcd-1` → ("abcd", -1); anything else → nil.
    static func splitRelative(_ spec: String) -> (String, Int)? {
        guard let signIndex = spec.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
        let digits = spec[spec.index(after: signIndex)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let count = Int(digits) else { return nil }
        return (String(spec[..<signIndex]), spec[signIndex] == "+" ? count : -count)
    }

    private func walk(from start: [String], steps: Int, spec: String) throws -> [String] {
        var position = start
        for _ in 0..<abs(steps) {
            let next: [String]
            if steps > 0 {
                next = position.isEmpty ? bases : children[position[0], default: []]
            } else {
                guard let here = position.first else {
                    throw GreyoakError(.usage, "Relative revision \(spec) didn't produce \(abs(steps)) migrations",
                                       hint: "there are not that many revisions below the starting point")
                }
                next = parents(of: here)
                if next.isEmpty { position = []; continue }
            }
            guard next.count == 1 else {
                if next.isEmpty {
                    throw GreyoakError(.usage, "Relative revision \(spec) didn't produce \(abs(steps)) migrations",
                                       hint: "there are not that many revisions above the starting point")
                }
                let here = position.first ?? "<base>"
                throw GreyoakError(.multipleHeads,
                                   "Relative revision \(spec) is ambiguous: \(here) \(steps > 0 ? "branches into" : "merges") \(next.joined(separator: ", "))",
                                   hint: "name the revision you mean instead")
            }
            position = next
        }
        return position
    }
}
