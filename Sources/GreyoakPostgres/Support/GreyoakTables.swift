/// The names of greyoak's own tables beside `alembic_version`, in one place because every
/// part must know them: `db upgrade` makes them, loads write them, and the catalog leaves
/// them out of what `verify` and `--autogenerate` compare.
package enum GreyoakTables {
    /// Who applied which migration when (`AuditLog`).
    package static let migrationLog = "greyoak_migration_log"
    /// Files loaded by `--each-file` (`IngestLedger`).
    package static let ingestLog = "greyoak_ingest_log"
    /// The commit point of a load's writers (`LoadJournal`).
    package static let loadJournal = "greyoak_load"
    /// Rows staged for the upsert, shared by every load (`SharedStaging`).
    package static let sharedStaging = "greyoak_stage"

    package static let all = [migrationLog, ingestLog, loadJournal, sharedStaging]
    /// The ones a load needs before it reads anything.
    package static let forLoads = [ingestLog, loadJournal, sharedStaging]
}
