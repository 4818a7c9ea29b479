/// The SQL that an upgrade, downgrade or stamp would run, for `--sql`: no database needed.
///
/// Like Alembic's offline mode it includes the `alembic_version` statements; unlike it,
/// each migration gets its own `BEGIN`/`COMMIT`, because that is how greyoak runs them
/// online (a non-transactional migration gets none).
public enum OfflineScript {
    public static func render(_ steps: [MigrationStep], createVersionTable: Bool) -> String {
        var out = ""
        if createVersionTable { out += VersionTable.createSQL + ";\n\n" }
        for step in steps {
            let migration = step.migration
            if migration.transactional { out += "BEGIN;\n\n" }
            out += "-- Running \(Migrator.describe(step))\n-- \(migration.path)\n\n"
            for statement in migration.statements(upgrade: step.isUpgrade) { out += statement.text + ";\n\n" }
            for change in step.versionChanges { out += change.sql + ";\n\n" }
            if migration.transactional { out += "COMMIT;\n\n" }
        }
        return out
    }

    public static func render(stamp changes: [VersionChange], createVersionTable: Bool) -> String {
        var out = "BEGIN;\n\n"
        if createVersionTable { out += VersionTable.createSQL + ";\n\n" }
        for change in changes { out += change.sql + ";\n\n" }
        return out + "COMMIT;\n\n"
    }
}
