/// The table locks a statement takes, read from its SQL by PostgreSQL 15's documented
/// lock levels (the `ALTER TABLE`, `CREATE INDEX`… reference pages).
///
/// `db plan` needs this beside the replay for two reasons: files that cannot run in a
/// transaction are not replayed at all, and in the replay every table was created by the
/// same transaction, which therefore already holds ACCESS EXCLUSIVE on it, so `pg_locks`
/// cannot show a later statement taking that mode again. Everything weaker the replay
/// measures.
public struct StatementLocks: Sendable, Equatable {
    /// Relation name (unquoted, without schema; as written, lower-cased unless quoted) → mode.
    public var locks: [String: TableLockMode] = [:]
    /// Tables whose every row the statement reads to validate or change it.
    public var scans: [String] = []
    /// Indexes the statement builds, by name when it names them.
    public var builds: [String] = []
    /// Locks on the table of a named index (`DROP INDEX idx` locks idx's table), which only
    /// the catalog can name.
    public var indexTableLocks: [String: TableLockMode] = [:]
    /// Partitioned tables that gain a partition (`ATTACH PARTITION`, `PARTITION OF`): a
    /// default partition of theirs, which only the catalog can name, is locked ACCESS
    /// EXCLUSIVE and scanned for rows that belong to the new one.
    public var partitionParents: [String] = []

    mutating func lock(_ relation: String?, _ mode: TableLockMode) {
        guard let relation, !relation.isEmpty else { return }
        locks[relation] = max(locks[relation] ?? mode, mode)
    }

    /// Classifies one statement.
    public static func classify(_ sql: String) -> StatementLocks { classify(SQLTokens(sql)) }

    static func classify(_ tokens: SQLTokens) -> StatementLocks {
        var result = StatementLocks()
        guard let first = tokens.word(0) else { return result }
        if otherKinds(first, tokens, into: &result) { return result }
        switch first {
        case "ALTER":
            if tokens.word(1) == "TABLE" { alterTable(tokens, into: &result) }
        case "CREATE":
            var index = 1
            if tokens.word(index) == "UNIQUE" { index += 1 }
            if tokens.word(index) == "INDEX" {
                let concurrently = tokens.word(index + 1) == "CONCURRENTLY"
                if let on = tokens.position(of: "ON", from: index) {
                    let table = tokens.name(after: tokens.word(on + 1) == "ONLY" ? on + 1 : on)
                    result.lock(table, concurrently ? .shareUpdateExclusive : .share)
                    let named = tokens.skipping(["CONCURRENTLY", "IF", "NOT", "EXISTS"], from: index + 1)
                    if named < on, let name = tokens.identifier(named) { result.builds.append(name) }
                    else if let table { result.builds.append("an index on \(table)") }
                }
            } else if tokens.skipping(["OR", "REPLACE", "CONSTRAINT"], from: 1) == tokens.position(of: "TRIGGER", from: 1),
                      let on = tokens.position(of: "ON", from: 1) {
                result.lock(tokens.name(after: on), .shareRowExclusive)
            }
            // A new table's REFERENCES lock the referenced tables.
            for position in tokens.positions(of: "REFERENCES") {
                result.lock(tokens.identifier(position + 1, atAnyDepth: true), .shareRowExclusive)
            }
        case "DROP":
            if tokens.word(1) == "TABLE" || tokens.word(1) == "MATERIALIZED" {
                for name in tokens.names(from: tokens.skipping(["TABLE", "MATERIALIZED", "VIEW", "IF", "EXISTS"], from: 1)) {
                    result.lock(name, .accessExclusive)
                }
            } else if tokens.word(1) == "INDEX" {
                let concurrently = tokens.word(2) == "CONCURRENTLY"
                for name in tokens.names(from: tokens.skipping(["CONCURRENTLY", "IF", "EXISTS"], from: 2)) {
                    result.indexTableLocks[name] = concurrently ? .shareUpdateExclusive : .accessExclusive
                }
            }
        case "TRUNCATE":
            for name in tokens.names(from: tokens.skipping(["TABLE", "ONLY"], from: 1)) { result.lock(name, .accessExclusive) }
        case "LOCK":
            let start = tokens.skipping(["TABLE", "ONLY"], from: 1)
            let mode = tokens.position(of: "IN", from: start).flatMap { inPosition in
                tokens.position(of: "MODE", from: inPosition).flatMap { TableLockMode(lockStatementWords: tokens.words(inPosition + 1..<$0)) }
            } ?? .accessExclusive
            for name in tokens.names(from: start) { result.lock(name, mode) }
        case "UPDATE", "DELETE", "INSERT":
            let start = first == "UPDATE" ? 1 : 2  // DELETE FROM, INSERT INTO
            let table = tokens.identifier(tokens.skipping(["ONLY"], from: start))
            result.lock(table, .rowExclusive)
            if first != "INSERT", let table { result.scans.append(table) }
        case "REFRESH":
            let concurrently = tokens.word(3) == "CONCURRENTLY"
            result.lock(tokens.identifier(concurrently ? 4 : 3), concurrently ? .exclusive : .accessExclusive)
        case "REINDEX":
            let concurrently = tokens.word(2) == "CONCURRENTLY"
            let name = tokens.identifier(concurrently ? 3 : 2)
            if tokens.word(1) == "TABLE" { result.lock(name, concurrently ? .shareUpdateExclusive : .share) }
            if tokens.word(1) == "INDEX", let name { result.indexTableLocks[name] = concurrently ? .shareUpdateExclusive : .share }
            if let name { result.builds.append(name) }
        case "VACUUM", "ANALYZE":
            for name in tokens.names(from: 1) where !["FULL", "VERBOSE", "ANALYZE", "FREEZE"].contains(name.uppercased()) {
                result.lock(name, tokens.contains("FULL") ? .accessExclusive : .shareUpdateExclusive)
            }
        case "CLUSTER":
            result.lock(tokens.identifier(1), .accessExclusive)
        default:
            break
        }
        return result
    }

    /// `ALTER TABLE [IF EXISTS] [ONLY] name action [, action]…`: the strongest of its actions.
    private static func alterTable(_ tokens: SQLTokens, into result: inout StatementLocks) {
        let start = tokens.skipping(["IF", "EXISTS", "ONLY"], from: 2)
        guard let table = tokens.identifier(start) else { return }
        for action in tokens.split(from: start + 1) {
            let words = action.map(\.upper)
            func has(_ phrase: String...) -> Bool {
                words.indices.contains { index in phrase.enumerated().allSatisfy { words.indices.contains(index + $0.offset) && words[index + $0.offset] == $0.element } }
            }
            let notValid = has("NOT", "VALID")
            switch true {
            case words.first == "RENAME" || words.first == "OWNER" || words.first == "SET" && words.dropFirst().first == "SCHEMA":
                result.lock(table, .accessExclusive)
            case has("VALIDATE", "CONSTRAINT"):
                result.lock(table, .shareUpdateExclusive)
                result.scans.append(table)
            case has("FOREIGN", "KEY") || (words.first == "ADD" && has("REFERENCES")):
                result.lock(table, .shareRowExclusive)
                if let position = action.firstIndex(where: { $0.upper == "REFERENCES" }), position + 1 < action.count {
                    result.lock(action[position + 1].identifier, .shareRowExclusive)
                }
                if !notValid { result.scans.append(table) }
            case words.first == "ADD" && has("CHECK"):
                result.lock(table, .accessExclusive)
                if !notValid { result.scans.append(table) }
            case has("SET", "NOT", "NULL"):
                result.lock(table, .accessExclusive)
                result.scans.append(table)
            case has("SET", "STATISTICS") || words.first == "CLUSTER" || has("SET", "WITHOUT", "CLUSTER")
                || (words.first == "ALTER" && (has("SET", "(") || has("RESET", "("))) || (words.first == "SET" && words.dropFirst().first == "(")
                || (words.first == "RESET" && words.dropFirst().first == "("):
                result.lock(table, .shareUpdateExclusive)
            case (words.first == "ENABLE" || words.first == "DISABLE") && has("TRIGGER"):  // ENABLE ROW LEVEL SECURITY is ACCESS EXCLUSIVE
                result.lock(table, .shareRowExclusive)
            case has("ATTACH", "PARTITION"):
                result.lock(table, .shareUpdateExclusive)
                result.partitionParents.append(table)
                if action.count > 2 { result.lock(action[2].identifier, .accessExclusive) }
            case has("DETACH", "PARTITION"):
                result.lock(table, has("CONCURRENTLY") ? .shareUpdateExclusive : .accessExclusive)
            default:
                result.lock(table, .accessExclusive)
            }
        }
    }
}

/// The words, identifiers and punctuation of one SQL statement, for ``StatementLocks``.
struct SQLTokens {
    struct Token {
        /// The text as written; quoted identifiers without their quotes.
        var text: String
        var quoted: Bool
        /// The depth of parentheses the token is inside.
        var depth: Int
        var upper: String { quoted ? "" : text.uppercased() }
        /// An identifier's name without its schema: `public.scores` → `scores`.
        var identifier: String { quoted ? text : text.lowercased() }
        /// What a string literal holds (`''` read as `'`); nil for other tokens.
        var literal: String? = nil
        /// The name before the last `.` of a qualified name: `scores` in `scores.band`.
        var qualifier: String? = nil
    }

    private(set) var tokens: [Token] = []

    /// A part of another statement's tokens (a statement inside a `DO` block).
    init(tokens: [Token]) { self.tokens = tokens }

    init(_ sql: String) {
        var depth = 0
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if character.isWhitespace {
                index = sql.index(after: index)
            } else if character == "-", sql[index...].hasPrefix("--") {
                index = sql[index...].firstIndex(of: "\n") ?? sql.endIndex
            } else if character == "\"" || character == "'" {
                var end = sql.index(after: index)
                var text = ""
                while end < sql.endIndex {
                    if sql[end] == character {
                        let next = sql.index(after: end)
                        if next < sql.endIndex, sql[next] == character { text.append(character); end = sql.index(after: next); continue }
                        break
                    }
                    text.append(sql[end])
                    end = sql.index(after: end)
                }
                if character == "\"" { appendName(text, quoted: true, depth: depth) }
                else { tokens.append(Token(text: "'", quoted: false, depth: depth, literal: text)) }
                index = end < sql.endIndex ? sql.index(after: end) : end
            } else if character.isLetter || character == "_" {
                var end = index
                while end < sql.endIndex, sql[end].isLetter || sql[end].isNumber || sql[end] == "_" || sql[end] == "$" { end = sql.index(after: end) }
                appendName(String(sql[index..<end]), quoted: false, depth: depth)
                index = end
            } else {
                if character == ")" { depth = max(0, depth - 1) }
                tokens.append(Token(text: String(character), quoted: false, depth: depth))
                if character == "(" { depth += 1 }
                index = sql.index(after: index)
            }
        }
    }

    /// A name after a `.` replaces the schema before it: `public.scores` is one token `scores`.
    private mutating func appendName(_ text: String, quoted: Bool, depth: Int) {
        if tokens.count >= 2, tokens[tokens.count - 1].text == ".", tokens[tokens.count - 1].depth == depth,
           tokens[tokens.count - 2].quoted || tokens[tokens.count - 2].text.first?.isLetter == true {
            let qualifier = tokens[tokens.count - 2].identifier
            tokens.removeLast(2)
            tokens.append(Token(text: text, quoted: quoted, depth: depth, qualifier: qualifier))
            return
        }
        tokens.append(Token(text: text, quoted: quoted, depth: depth))
    }

    /// The upper-cased word at `index`, if it is an unquoted word at the top level.
    func word(_ index: Int) -> String? {
        guard tokens.indices.contains(index), tokens[index].depth == 0, !tokens[index].quoted else { return nil }
        return tokens[index].upper
    }

    func words(_ range: Range<Int>) -> [String] { range.compactMap { word($0) } }

    /// The identifier at `index`; only at the top level unless `atAnyDepth`.
    func identifier(_ index: Int, atAnyDepth: Bool = false) -> String? {
        guard tokens.indices.contains(index), atAnyDepth || tokens[index].depth == 0,
              tokens[index].quoted || tokens[index].text.first?.isLetter == true || tokens[index].text.first == "_" else { return nil }
        return tokens[index].identifier
    }

    func name(after index: Int) -> String? { identifier(index + 1) }

    func contains(_ word: String) -> Bool { tokens.contains { $0.depth == 0 && $0.upper == word } }

    func position(of word: String, from start: Int) -> Int? {
        tokens.indices.first { $0 >= start && self.word($0) == word }
    }

    func positions(of word: String) -> [Int] { tokens.indices.filter { tokens[$0].upper == word } }

    /// The first position at or after `start` whose word is not one of `words`.
    func skipping(_ words: Set<String>, from start: Int) -> Int {
        var index = start
        while let word = word(index), words.contains(word) { index += 1 }
        return index
    }

    /// A comma-separated list of names from `start` until the first other word
    /// (`DROP TABLE a, b CASCADE` → a, b).
    func names(from start: Int) -> [String] {
        var names: [String] = []
        var index = start
        while let name = identifier(index) {
            if !tokens[index].quoted, ["CASCADE", "RESTRICT", "IN", "NOWAIT", "RESTART", "CONTINUE"].contains(tokens[index].upper) { break }
            names.append(name)
            guard tokens.indices.contains(index + 1), tokens[index + 1].text == "," else { break }
            index += 2
        }
        return names
    }

    /// The top-level comma-separated parts from `start` on (ALTER TABLE's actions).
    func split(from start: Int) -> [[Token]] {
        var parts: [[Token]] = [[]]
        for token in tokens.dropFirst(start) {
            if token.depth == 0, token.text == ",", !token.quoted { parts.append([]) } else { parts[parts.count - 1].append(token) }
        }
        return parts.filter { !$0.isEmpty }
    }
}
