extension StatementLocks {
    /// The statement kinds beside tables, indexes and DML: `DO` blocks, partitions,
    /// functions, triggers, policies, comments and grants. Modes are PostgreSQL 15's, as
    /// `pg_locks` shows them (checked statement by statement on a 15 server).
    ///
    /// - Returns: Whether the statement was one of them (then `result` holds its locks, or
    ///   none when it takes no table lock).
    static func otherKinds(_ first: String, _ tokens: SQLTokens, into result: inout StatementLocks) -> Bool {
        let second = tokens.word(1)
        switch (first, second) {
        case ("DO", _):
            doBlock(tokens, into: &result)
        case ("GRANT", _), ("REVOKE", _):
            break  // privileges change in the catalog only: no lock on the table
        case ("CREATE", _) where ["FUNCTION", "PROCEDURE"].contains(tokens.word(tokens.skipping(["OR", "REPLACE"], from: 1))):
            break  // no lock on the tables its body names (and its body is not this statement's SQL)
        case ("DROP", "FUNCTION"), ("DROP", "PROCEDURE"), ("ALTER", "FUNCTION"), ("ALTER", "PROCEDURE"):
            break  // none, unless CASCADE drops a trigger or default that uses it
        case ("CREATE", "TABLE"), ("CREATE", "UNLOGGED"):
            // A new partition takes ACCESS EXCLUSIVE on its parent (ATTACH PARTITION does not);
            // `LIKE t` reads t's definition under ACCESS SHARE.
            if let partition = tokens.position(of: "PARTITION", from: 2), tokens.word(partition + 1) == "OF",
               let parent = tokens.identifier(partition + 2) {
                result.lock(parent, .accessExclusive)
                result.partitionParents.append(parent)
            }
            for like in tokens.positions(of: "LIKE") where tokens.tokens[like].depth == 1 {
                result.lock(tokens.identifier(like + 1, atAnyDepth: true), .accessShare)
            }
            for position in tokens.positions(of: "REFERENCES") {
                result.lock(tokens.identifier(position + 1, atAnyDepth: true), .shareRowExclusive)
            }
        case ("CREATE", "POLICY"), ("ALTER", "POLICY"), ("DROP", "POLICY"), ("ALTER", "TRIGGER"), ("DROP", "TRIGGER"):
            if let on = tokens.position(of: "ON", from: 2) { result.lock(tokens.name(after: on), .accessExclusive) }
        case ("ALTER", "INDEX"):
            // `ALTER INDEX parent ATTACH PARTITION child`: ACCESS SHARE on both tables (the
            // indexes themselves are locked harder, which blocks no query). RENAME and
            // SET (...) lock only the index, with SHARE UPDATE EXCLUSIVE.
            if let attach = tokens.position(of: "ATTACH", from: 2), tokens.word(attach + 1) == "PARTITION" {
                if let parent = tokens.identifier(tokens.skipping(["IF", "EXISTS"], from: 2)) { result.indexTableLocks[parent] = .accessShare }
                if let child = tokens.identifier(attach + 2) { result.indexTableLocks[child] = .accessShare }
            }
        case ("COMMENT", _):
            comment(tokens, into: &result)
        default:
            return false
        }
        return true
    }

    /// `COMMENT ON TABLE t` and `ON COLUMN t.c`: SHARE UPDATE EXCLUSIVE on t; on a
    /// constraint, trigger or policy `ON t`: ACCESS SHARE.
    private static func comment(_ tokens: SQLTokens, into result: inout StatementLocks) {
        switch tokens.word(2) {
        case "TABLE", "VIEW":
            result.lock(tokens.identifier(3), .shareUpdateExclusive)
        case "MATERIALIZED":
            result.lock(tokens.identifier(4), .shareUpdateExclusive)
        case "COLUMN":
            if tokens.tokens.indices.contains(3) { result.lock(tokens.tokens[3].qualifier, .shareUpdateExclusive) }
        case "CONSTRAINT", "TRIGGER", "POLICY":
            if let on = tokens.position(of: "ON", from: 4) { result.lock(tokens.name(after: on), .accessShare) }
        default:
            break  // a function, type, index, schema…: no table lock
        }
    }

    /// `DO $$ … $$`: the locks of the statements in its body, PL/pgSQL's control words left
    /// out (`IF … THEN ALTER TABLE …`), and of the SQL an `EXECUTE 'sql'` or
    /// `EXECUTE format('sql', …)` runs, read from its string (with `%I`/`%L` as written).
    /// A body built any other way is not read.
    private static func doBlock(_ tokens: SQLTokens, into result: inout StatementLocks) {
        var statement: [SQLTokens.Token] = []
        func finish() {
            defer { statement = [] }
            let controlWords: Set<String> = ["BEGIN", "THEN", "ELSE", "LOOP", "DECLARE", "$"]
            guard let start = statement.lastIndex(where: { $0.depth == 0 && controlWords.contains($0.upper) }).map({ $0 + 1 }) ?? statement.indices.first,
                  start < statement.count else { return }
            let inner = Array(statement[start...])
            let found: StatementLocks
            if inner.first?.upper == "EXECUTE" {
                guard let sql = inner.first(where: { $0.literal != nil })?.literal else { return }
                found = classify(sql)
            } else {
                found = classify(SQLTokens(tokens: inner))
            }
            for (relation, mode) in found.locks { result.lock(relation, mode) }
            for (index, mode) in found.indexTableLocks { result.indexTableLocks[index] = max(result.indexTableLocks[index] ?? mode, mode) }
            result.scans += found.scans.filter { !result.scans.contains($0) }
            result.builds += found.builds
            result.partitionParents += found.partitionParents
        }
        for token in tokens.tokens.dropFirst() {
            if token.depth == 0, token.text == ";", !token.quoted { finish() } else { statement.append(token) }
        }
        finish()
    }
}
