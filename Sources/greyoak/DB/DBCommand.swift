import ArgumentParser

/// `greyoak db ...`: Alembic's commands on raw SQL migrations.
struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the schema with versioned SQL migrations, command for command like Alembic.",
        subcommands: [
            Current.self, History.self, Show.self, Heads.self, Branches.self,
            Upgrade.self, Downgrade.self, Stamp.self, Revision.self, Merge.self, Verify.self, Plan.self, Recover.self, Check.self,
        ]
    )
}

/// Splits `FROM:TO` as Alembic's `--sql` ranges and `history -r` take them.
func splitRange(_ text: String) -> (from: String?, to: String?)? {
    guard let colon = text.firstIndex(of: ":") else { return nil }
    let from = String(text[..<colon]), to = String(text[text.index(after: colon)...])
    return (from.isEmpty ? nil : from, to.isEmpty ? nil : to)
}
