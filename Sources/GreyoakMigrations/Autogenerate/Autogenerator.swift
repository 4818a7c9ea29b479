import GreyoakPostgres
import GreyoakSchema
import Logging

/// `greyoak db revision --autogenerate`: the migration that turns what the migrations build
/// into what the database (or a SQL file) holds.
///
/// Both sides are read as ``SchemaCatalog``s: the migrations are replayed from nothing (see
/// ``SchemaReplay``), and the desired side is the live schema (`public`, greyoak's bookkeeping
/// left out) or, with a SQL file, that file loaded the same way. Everything scratch is
/// dropped or rolled back, so generating changes nothing in the database.
public struct Autogenerator {
    /// The two halves of the new migration.
    public struct Result: Sendable {
        public var upgrade: [SchemaChange]
        public var downgrade: [SchemaChange]
        /// Where the migrations were replayed.
        public var replayedIn: SchemaReplay.Place
        /// True when there is no statement to write (notes about objects greyoak does not
        /// generate may remain: see ``warnings``).
        public var isEmpty: Bool { !(upgrade + downgrade).contains { $0.sql != nil } }
        /// Every destructive statement, as `upgrade: …` / `downgrade: …` lines for stderr.
        public var warnings: [String] {
            upgrade.compactMap { $0.destructive.map { "upgrade: DESTRUCTIVE: \($0)" } }
                + downgrade.compactMap { $0.destructive.map { "downgrade: DESTRUCTIVE: \($0)" } }
                + upgrade.filter { $0.sql == nil }.flatMap(\.comments)
        }
    }

    let graph: RevisionGraph
    let connection: Connection
    let replay: SchemaReplay

    /// The schemas managed (`--schema`); nil: the current one.
    let schemas: [String]?

    public init(graph: RevisionGraph, connection: Connection, devURL: ConnectionSettings? = nil, schemas: [String]? = nil,
                logger: Logger = Logger(label: "greyoak.autogenerate")) {
        self.graph = graph
        self.schemas = schemas
        self.connection = connection
        replay = SchemaReplay(connection: connection, devURL: devURL, logger: logger)
    }

    /// Computes the migration whose parents are `parents`.
    ///
    /// - Parameter schemaFile: A SQL file that builds the desired schema; nil compares with the live database.
    /// - Throws: ``GreyoakError`` `.behindHead` when the live database is not at `parents`
    ///   (its schema would be compared with the wrong revision), or when a migration or the
    ///   file cannot be replayed.
    public func generate(parents: [String], schemaFile: String?) throws -> Result {
        let desired: [SchemaCatalog]
        if let schemaFile {
            (desired, _) = try replay.loading(schemaFile, schemas: schemas)
        } else {
            let current = try VersionTable.heads(connection)
            guard Set(current) == Set(parents) else {
                let at = current.isEmpty ? "base" : current.joined(separator: ", ")
                throw GreyoakError(.behindHead, "Target database is not up to date: it is at \(at), the new revision builds on \(parents.isEmpty ? "base" : parents.joined(separator: ", "))",
                                   hint: "run `greyoak db upgrade head` first, or compare with a file: --from-schema FILE.sql")
            }
            let schema = try connection.execute("SELECT current_schema()")[0, 0] ?? "public"
            desired = try (schemas ?? [schema]).map { try ScratchSchema.live(connection, schema: $0) }
        }
        let migrations = graph.newestFirst(graph.ancestorsOrSelf(parents)).reversed().map { graph.migrations[$0]! }
        let (replayed, place) = try replay.replaying(migrations, schemas: schemas)
        // Partitions that loads (or pg_partman) made are data: nothing to generate for them.
        let pairs = zip(replayed, desired).map { LoadPartitions.leftOut(of: $0, $1) }
        guard let schemas else {
            let (built, wanted) = pairs[0]
            return Result(upgrade: SchemaDiff(from: built, to: wanted).changes,
                          downgrade: SchemaDiff(from: wanted, to: built).changes, replayedIn: place)
        }
        var (upgrade, downgrade): ([SchemaChange], [SchemaChange]) = ([], [])
        for (index, name) in schemas.enumerated() {
            var (have, want) = pairs[index]
            if index > 0 { (have, want) = (have.withoutDatabaseLevelObjects(), want.withoutDatabaseLevelObjects()) }
            upgrade += Self.section(name, from: have, to: want)
            downgrade = Self.section(name, from: want, to: have) + downgrade
        }
        return Result(upgrade: upgrade, downgrade: downgrade, replayedIn: place)
    }

    /// The changes to schema `name` with `--schema`: made (or dropped) with the schema
    /// itself, under `SET LOCAL search_path TO name`, so that its unqualified names land in
    /// it; the search path goes back to the session's at the end, for the version table.
    static func section(_ name: String, from: SchemaCatalog, to: SchemaCatalog) -> [SchemaChange] {
        let changes = SchemaDiff(from: from, to: to).changes
        let quoted = to.quote(name)
        var section: [SchemaChange] = []
        if to.schemaExists, !from.schemaExists { section.append(SchemaChange("CREATE SCHEMA \(quoted)")) }
        guard changes.contains(where: { $0.sql != nil }) || !section.isEmpty || from.schemaExists != to.schemaExists else { return changes }
        section.append(SchemaChange("SET LOCAL search_path TO \(quoted)", comments: ["schema \(name)"]))
        section += changes
        section.append(SchemaChange("SET LOCAL search_path TO DEFAULT"))
        if from.schemaExists, !to.schemaExists {
            section.append(SchemaChange("DROP SCHEMA \(quoted)", destructive: "drops schema \(name)"))
        }
        return section
    }

    /// One section of the migration file.
    public static func render(_ changes: [SchemaChange], source: String, replayedIn place: SchemaReplay.Place) -> String {
        let header = "-- Generated by `greyoak db revision --autogenerate` from \(source), the migrations replayed in \(place.kind). Review every statement before applying it."
        return ([header] + changes.map(\.text)).joined(separator: "\n\n")
    }
}
