/// One statement of a generated migration, with what a reviewer must know about it.
public struct SchemaChange: Equatable, Sendable {
    /// The statement, without its semicolon; nil for a note that has no statement (such as an
    /// object greyoak does not generate).
    public var sql: String?
    /// Comment lines written above the statement, without `-- `.
    public var comments: [String] = []
    /// Why the statement can lose data (`DROP TABLE`, `DROP COLUMN`, a narrowing type), or nil.
    public var destructive: String?

    public init(_ sql: String?, comments: [String] = [], destructive: String? = nil) {
        self.sql = sql
        self.comments = comments
        self.destructive = destructive
    }

    /// The statement as it goes into a migration file: comments, `-- DESTRUCTIVE:`, then the SQL.
    public var text: String {
        var lines = comments.map { "-- \($0)" }
        if let destructive { lines.append("-- DESTRUCTIVE: \(destructive)") }
        if let sql { lines.append(sql + ";") }
        return lines.joined(separator: "\n")
    }
}
