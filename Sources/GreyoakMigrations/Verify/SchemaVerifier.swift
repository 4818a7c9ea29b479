import Foundation
import Logging
import GreyoakPostgres
import GreyoakSchema

/// Answers "is this database safe to load into?" for `greyoak db verify`.
///
/// Three checks, each listing every difference it finds: the version table is at the
/// head revision; no applied migration file was edited since it ran (SHA-256 against the
/// audit table); and the live catalog equals what the migrations produce. The expected
/// catalog comes from replaying the applied migrations from nothing in a scratch database (see
/// ``SchemaReplay``), so verifying changes nothing.
public struct SchemaVerifier {
    public struct Report: Sendable {
        /// What is wrong; empty when the database is safe to load into.
        public var problems: [String] = []
        /// Facts worth knowing that are not problems (such as a revision applied by Alembic,
        /// which recorded no checksum).
        public var notes: [String] = []
        /// The exit status's kind: the most serious problem found.
        public var code: GreyoakError.Code?
        public var summary = ""
        /// Where the migrations were replayed.
        public var replayedIn: SchemaReplay.Place?

        mutating func fail(_ code: GreyoakError.Code, _ problem: String) {
            problems.append(problem)
            if self.code == nil || self.code == .drift { self.code = code }
        }
    }

    let graph: RevisionGraph
    let connection: Connection
    /// The loads' side: unfinished loads are problems of the database too.
    let housekeeping: any LoadHousekeeping
    let logger: Logger
    /// A database greyoak may wipe, for the replay of a role that cannot create databases.
    let devURL: ConnectionSettings?

    /// The schemas compared (`--schema`); nil: the current one.
    let schemas: [String]?

    public init(graph: RevisionGraph, connection: Connection, housekeeping: any LoadHousekeeping,
                devURL: ConnectionSettings? = nil, schemas: [String]? = nil, logger: Logger) {
        self.graph = graph
        self.schemas = schemas
        self.connection = connection
        self.housekeeping = housekeeping
        self.devURL = devURL
        self.logger = logger
    }

    public func verify() throws -> Report {
        var report = Report()
        let current = try VersionTable.heads(connection)
        let schema = try connection.execute("SELECT current_schema()")[0, 0] ?? "public"

        if let unknown = current.first(where: { graph.migrations[$0] == nil }) {
            report.fail(.aheadOrUnknown, "alembic_version holds \(unknown), which no migration file in \(graph.directory) defines: the database is ahead of this code or was migrated from other files")
            return report
        }
        if current.isEmpty {
            try checkUnmanaged(schema: schema, into: &report)
        } else if Set(current) != Set(graph.heads) {
            report.fail(.behindHead, "the database is at \(current.joined(separator: ", ")), not at head \(graph.heads.joined(separator: ", ")): run `greyoak db upgrade \(graph.heads.count == 1 ? "head" : "heads")`")
        }

        let applied = graph.ancestorsOrSelf(current)
        let recorded = try AuditLog.appliedChecksums(connection)
        for id in graph.loadOrder where applied.contains(id) {
            let migration = graph.migrations[id]!
            if let sum = recorded[id] {
                if sum != migration.checksum {
                    report.fail(.drift, "\(migration.path) was edited after it was applied: sha256 \(sum.prefix(12))… when it ran, \(migration.checksum.prefix(12))… now")
                }
            } else {
                report.notes.append("\(id) has no recorded checksum (applied by Alembic or stamped), so edits to \(migration.fileName) cannot be detected")
            }
        }

        let (loadProblems, loadNotes) = try housekeeping.inspect(connection)
        for problem in loadProblems { report.fail(.databaseError, problem) }
        report.notes += loadNotes

        let (built, place) = try SchemaReplay(connection: connection, devURL: devURL, logger: logger)
            .replaying(graph.newestFirst(applied).reversed().map { graph.migrations[$0]! }, schemas: schemas)
        let compared = schemas ?? [schema]
        var summaries: [String] = []
        for (index, name) in compared.enumerated() {
            // Partitions that loads (or pg_partman) made are data, on either side.
            var (have, want) = LoadPartitions.leftOut(of: try ScratchSchema.live(connection, schema: name), built[index])
            if index > 0 { (want, have) = (want.withoutDatabaseLevelObjects(), have.withoutDatabaseLevelObjects()) }
            // Named only when the caller chose the schemas, so that today's sentences stay as they are.
            let prefix = schemas == nil ? "" : "schema \(name): "
            if want.schemaExists != have.schemaExists {
                report.fail(.drift, "\(prefix)the schema \(want.schemaExists ? "is missing (the migrations make it)" : "is not made by any migration")")
            }
            let live = CatalogSnapshot(have)
            for difference in live.differences(from: CatalogSnapshot(want)) { report.fail(.drift, prefix + difference) }
            summaries.append(live.summary)
        }
        report.summary = schemas == nil ? "catalog of schema \(schema): \(summaries[0])"
            : compared.enumerated().map { "catalog of schema \($1): \(summaries[$0])" }.joined(separator: "; ")
        report.replayedIn = place
        // A scratch schema sees the live database's objects, so it may hide a missing extension: say so.
        if case .scratchSchema = place { report.notes.append("the migrations were replayed in \(place)") }
        logger.debug("the migrations were replayed in \(place)")
        return report
    }

    private func checkUnmanaged(schema: String, into report: inout Report) throws {
        let columns = try connection.execute("""
            SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = 'scores' AND a.attnum > 0 AND NOT a.attisdropped
            """, [schema]).column
        if columns.isEmpty {
            report.fail(.behindHead, "the database has no revision (base): run `greyoak db upgrade head`")
        } else if Set(["id", "date", "score"]).isSubset(of: columns) {
            report.fail(.behindHead, "the scores table is the legacy one from the original Docker init script (id SERIAL, date, score, f_pillar…s_pillar, guardrail_flags), not the migrated schema, and alembic_version records no revision. Do not load into it: move it aside (ALTER TABLE scores RENAME TO scores_legacy), then run `greyoak db upgrade head`")
        } else {
            report.fail(.behindHead, "a scores table exists but alembic_version records no revision: the schema is unmanaged. If it is exactly the migrated schema, record that with `greyoak db stamp head`; otherwise move it aside and run `greyoak db upgrade head`")
        }
    }
}
