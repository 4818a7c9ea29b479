import Foundation
import Logging
import GreyoakPostgres
import GreyoakSchema

/// `greyoak db plan`: what each pending migration would do to the live database, found
/// without changing it or locking its tables.
///
/// Like `verify`, it replays the migrations where ``SchemaReplay`` does: in a scratch database
/// (or the `--dev-url` one), where the applied ones are committed first, each in its own
/// transaction, and then each pending one runs in a transaction of its own statement by
/// statement, comparing the catalog and this session's `pg_locks` before and after each
/// statement; the last resort is a scratch schema inside one transaction that it rolls back.
/// A `relfilenode` that changes is a rewrite; an index that appears or changes its
/// `relfilenode` is a build. A table that the same transaction created (every table, in a
/// scratch schema) is held ACCESS EXCLUSIVE already, which `pg_locks` then cannot show again;
/// ``StatementLocks`` reads the modes from the SQL as well, and the strongest of both is
/// reported. Findings are weighed by the live table of the same name (`reltuples`,
/// `pg_total_relation_size`).
public struct MigrationPlanner {
    let graph: RevisionGraph
    /// Where the migrations are replayed: the live connection, or a scratch database's.
    private(set) var connection: Connection
    let live: Connection
    let devURL: ConnectionSettings?
    let logger: Logger

    public init(graph: RevisionGraph, connection: Connection, devURL: ConnectionSettings? = nil, logger: Logger) {
        self.graph = graph
        self.connection = connection
        self.live = connection
        self.devURL = devURL
        self.logger = logger
    }

    /// Where the last ``plan(to:)`` replayed the migrations.
    public private(set) var replayedIn: SchemaReplay.Place?

    /// Plans the upgrade from the database's revision to `spec` (see ``RevisionGraph/resolve(_:current:)``).
    ///
    /// - Returns: One entry per pending migration, in the order `upgrade` would run them.
    /// - Throws: ``GreyoakError`` when a migration cannot be replayed (with its file and line).
    public mutating func plan(to spec: String) throws -> [PlannedMigration] {
        let current = try graph.currentHeads(of: live)
        let steps = try graph.upgradePlan(from: current, to: try graph.resolve(spec, current: current))
        guard !steps.isEmpty else { return [] }
        let sizes = try LiveTables.read(live)
        let applied = graph.newestFirst(graph.ancestorsOrSelf(current)).reversed().map { graph.migrations[$0]! }
        let pending = steps.map(\.migration)

        let firstError: any Error
        do {
            var planner = self
            if let (plans, place) = try SchemaReplay(connection: live, devURL: devURL, logger: logger).inEmptyDatabase({ scratch in
                planner.connection = scratch
                return try planner.planInDatabase(applied: applied, pending: pending, live: sizes)
            }) {
                replayedIn = place
                return plans
            }
            replayedIn = .scratchSchema(reason: "the role may not create databases: pass --dev-url")
            return try planInScratchSchema(applied: applied, pending: pending, live: sizes)
        } catch let error as ReplayFailure {
            firstError = error.underlying
        }
        // As verify does: a migration that needs what the live database has (an extension
        // installed by hand) is planned in a scratch schema of it instead.
        do {
            let plans = try planInScratchSchema(applied: applied, pending: pending, live: sizes)
            replayedIn = .scratchSchema(reason: "the replay failed in an empty database, which has only what the migrations create")
            logger.info("the replay needed the live database's objects (\(firstError)); planned in a scratch schema instead")
            return plans
        } catch {
            throw firstError
        }
    }

    /// A replay failure in the empty database, as opposed to a failure to make one.
    private struct ReplayFailure: Error { var underlying: any Error }

    /// In an empty database: the applied migrations committed, then each pending one in its
    /// own transaction, as `upgrade` runs them.
    private func planInDatabase(applied: [Migration], pending: [Migration], live: LiveTables) throws -> [PlannedMigration] {
        let schema = try connection.execute("SELECT current_schema()")[0, 0] ?? "public"
        do {
            for migration in applied {
                try connection.transaction {
                    for statement in migration.upgrade { try replay(statement, of: migration) }
                }
            }
            var state = Replay(connection: connection, schema: schema, live: live)
            return try pending.map { migration in
                try connection.transaction { try plan(migration, replay: &state) }
            }
        } catch {
            throw ReplayFailure(underlying: error)
        }
    }

    /// In a scratch schema of the live database, inside one transaction that is rolled back.
    /// The live schema stays on the search path behind it, as in verify's ``ScratchSchema``,
    /// so that what extensions installed there is found (the connection's lock timeout
    /// bounds any wait for a live object the SQL names).
    private func planInScratchSchema(applied: [Migration], pending: [Migration], live: LiveTables) throws -> [PlannedMigration] {
        let scratch = "greyoak_plan_\(getpid())"
        let behind = try connection.execute("SELECT quote_ident(current_schema())")[0, 0].map { ", " + $0 } ?? ""
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.execute("CREATE SCHEMA \(scratch)")
        try connection.execute("SET LOCAL search_path TO \(scratch)\(behind)")
        for migration in applied {
            for statement in migration.upgrade { try replay(statement, of: migration) }
        }
        var replay = Replay(connection: connection, schema: scratch, live: live)
        return try pending.map { try plan($0, replay: &replay) }
    }

    private func plan(_ migration: Migration, replay: inout Replay) throws -> PlannedMigration {
        let before = try CatalogSnapshot.read(connection, schema: replay.schema)
        // Relations are followed by oid from here, so that a table renamed by an earlier
        // statement of the same migration is still weighed as the live table it is.
        let start = try replay.observe()
        var statements: [PlannedStatement] = []
        for statement in migration.upgrade {
            let declared = StatementLocks.classify(statement.text)
            var planned = PlannedStatement(line: statement.line, sql: statement.text, locks: [], rewrites: [], builds: [], scans: [])
            let observedBefore = try replay.observe()
            if migration.transactional {
                try self.replay(statement, of: migration)
                replay.record(from: observedBefore, to: try replay.observe(), start: start, into: &planned)
            } else {
                // Still replayed (without CONCURRENTLY) so that later migrations find the
                // schema they expect, but described from the SQL alone.
                try self.replay(statement, of: migration)
                planned.builds = declared.builds
            }
            replay.merge(declared, seenIn: observedBefore, start: start, into: &planned)
            statements.append(planned)
        }
        let after = try CatalogSnapshot.read(connection, schema: replay.schema)
        let roundTrip = try self.roundTrip(migration, before: before, after: after, live: replay.live)

        var tables: [String: TableSize] = [:]
        for statement in statements {
            for name in statement.locks.map(\.relation) + statement.rewrites + statement.scans {
                tables[name] = replay.live.sizes[name]
            }
        }
        return PlannedMigration(revision: migration.revision, parents: migration.parents, message: migration.message,
                                transactional: migration.transactional, replayed: migration.transactional,
                                statements: statements, tables: tables, roundTrip: roundTrip)
    }

    /// Upgrade then downgrade must give `before`; downgrade then upgrade must give `after`.
    /// Runs inside a savepoint that is rolled back, so the replay goes on from `after`.
    private func roundTrip(_ migration: Migration, before: CatalogSnapshot, after: CatalogSnapshot,
                           live: LiveTables) throws -> RoundTrip {
        var problems: [String] = []
        try connection.execute("SAVEPOINT greyoak_round_trip")
        var stage = "the downgrade"
        do {
            for statement in migration.downgrade { try replay(statement, of: migration) }
            let downgraded = try CatalogSnapshot.read(connection, schema: scratchSchema())
            problems += Self.compare(downgraded, to: before, after: "upgrade then downgrade")
            stage = "the upgrade after the downgrade"
            for statement in migration.upgrade { try replay(statement, of: migration) }
            let upgraded = try CatalogSnapshot.read(connection, schema: scratchSchema())
            problems += Self.compare(upgraded, to: after, after: "downgrade then upgrade")
        } catch {
            problems.append("\(stage) fails: \((error as? GreyoakError)?.message ?? "\(error)")")
        }
        try connection.execute("ROLLBACK TO SAVEPOINT greyoak_round_trip")
        try connection.execute("RELEASE SAVEPOINT greyoak_round_trip")

        var dataLoss: [String] = []
        for key in before.objects.keys.sorted() where after.objects[key] == nil {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let table = parts[1].split(separator: ".").first.map(String.init) ?? parts[1]
            guard let size = live.sizes[table], parts[0] == "column" || parts[0] == "relation" else { continue }
            let what = parts[0] == "column" ? "column \(parts[1])" : "table \(parts[1])"
            dataLoss.append("the upgrade drops \(what) (\(size.description)): its data is lost, and the downgrade cannot bring it back")
        }
        return RoundTrip(problems: problems, dataLoss: dataLoss)
    }

    private func scratchSchema() throws -> String { try connection.execute("SELECT current_schema()")[0, 0] ?? "" }

    /// Every difference of `got` from `want`, as sentences.
    static func compare(_ got: CatalogSnapshot, to want: CatalogSnapshot, after steps: String) -> [String] {
        Set(got.objects.keys).union(want.objects.keys).sorted().compactMap { key in
            switch (want.objects[key], got.objects[key]) {
            case let (expected?, nil): "\(steps): \(key) is missing (it was \(expected))"
            case let (nil, found?): "\(steps): \(key) is left over (\(found))"
            case let (expected?, found?) where expected != found: "\(steps): \(key) is \(found), not \(expected)"
            default: nil
            }
        }
    }

    private func replay(_ statement: SQLSplitter.Statement, of migration: Migration) throws {
        do {
            // A transaction cannot run CONCURRENTLY; the object it makes is the same.
            try connection.execute(SchemaReplay.withoutConcurrently(statement.text))
        } catch {
            throw GreyoakError(.failure, "cannot replay \(migration.path):\(statement.line): \(error)",
                               hint: "the plan needs every migration to run on an empty copy of the schema")
        }
    }
}

/// The tables of the live schema, for weighing findings and naming relations as they are there.
struct LiveTables {
    var sizes: [String: TableSize] = [:]
    /// Index name → its table's name.
    var indexTables: [String: String] = [:]
    /// Partitioned table → its default partition.
    var defaultPartitions: [String: String] = [:]

    /// Reads sizes without waiting: `pg_total_relation_size` takes ACCESS SHARE for an instant,
    /// so it gets 200 ms; if a lock is queued on a table, the sizes come from `relpages` instead.
    static func read(_ connection: Connection) throws -> LiveTables {
        var live = LiveTables()
        let exact = """
            SELECT c.relname, c.reltuples::int8, pg_total_relation_size(c.oid)
            FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'm')
            """
        let estimated = """
            SELECT c.relname, c.reltuples::int8,
                   (c.relpages + coalesce((SELECT relpages FROM pg_class WHERE oid = c.reltoastrelid), 0)
                    + coalesce((SELECT sum(i.relpages) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                                WHERE x.indrelid = c.oid), 0))::int8 * current_setting('block_size')::int8
            FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'm')
            """
        let rows: [[String?]]
        do {
            rows = try connection.transaction {
                try connection.execute("SET LOCAL lock_timeout = '200ms'")
                return try connection.execute(exact).rows
            }
        } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
            rows = try connection.execute(estimated).rows
        }
        for row in rows {
            guard let name = row[0] else { continue }
            let tuples = row[1].flatMap { Int($0) }
            live.sizes[name] = TableSize(rowsEstimate: tuples.flatMap { $0 < 0 ? nil : $0 }, bytes: row[2].flatMap { Int($0) } ?? 0)
        }
        for row in try connection.execute("""
            SELECT i.relname, t.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE i.relnamespace = current_schema()::regnamespace
            """).rows {
            if let index = row[0], let table = row[1] { live.indexTables[index] = table }
        }
        for row in try connection.execute("""
            SELECT p.relname, c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent
            WHERE c.relispartition AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AND c.relnamespace = current_schema()::regnamespace
            """).rows {
            if let parent = row[0], let partition = row[1] { live.defaultPartitions[parent] = partition }
        }
        return live
    }
}

/// The scratch schema during the replay: what each statement changed and locked.
struct Replay {
    let connection: Connection
    let schema: String
    let live: LiveTables

    struct Relation: Equatable {
        var name: String
        var kind: String
        var filenode: String
        /// For an index, its table.
        var table: String
        var tableOID: String
    }

    struct Observation {
        var relations: [String: Relation] = [:]
        var locks: Set<[String]> = []
    }

    func observe() throws -> Observation {
        var observation = Observation()
        for row in try connection.execute("""
            SELECT c.oid::text, c.relname, c.relkind::text, c.relfilenode::text, coalesce(t.relname, ''), coalesce(t.oid::text, '')
            FROM pg_class c LEFT JOIN pg_index x ON x.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = x.indrelid
            WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
            """, [schema]).rows {
            observation.relations[row[0]!] = Relation(name: row[1]!, kind: row[2]!, filenode: row[3]!, table: row[4]!, tableOID: row[5]!)
        }
        for row in try connection.execute("""
            SELECT relation::text, mode FROM pg_locks
            WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted AND relation IS NOT NULL
            """).rows {
            observation.locks.insert([row[0]!, row[1]!])
        }
        return observation
    }

    /// Adds what changed between two observations around one statement; relations are named
    /// as they were at `start`, the migration's beginning (those it made are not live).
    func record(from before: Observation, to after: Observation, start: Observation, into planned: inout PlannedStatement) {
        for lock in after.locks.subtracting(before.locks) {
            guard let relation = start.relations[lock[0]], ["r", "p", "m"].contains(relation.kind),
                  live.sizes[relation.name] != nil, let mode = TableLockMode(rawValue: lock[1]) else { continue }
            add(PlannedLock(relation: relation.name, mode: mode), to: &planned)
        }
        // An index whose column changes type to a compatible one is re-created with a new
        // oid but keeps its storage: only a relfilenode never seen before is a build.
        let oldFilenodes = Set(before.relations.values.map(\.filenode))
        for (oid, relation) in after.relations.sorted(by: { $0.value.name < $1.value.name }) {
            if ["r", "m"].contains(relation.kind), let old = before.relations[oid], old.filenode != relation.filenode,
               let name = start.relations[oid]?.name, live.sizes[name] != nil {
                planned.rewrites.append(name)
            }
            if relation.kind == "i", !oldFilenodes.contains(relation.filenode),
               let table = start.relations[relation.tableOID]?.name, live.sizes[table] != nil {
                planned.builds.append(relation.name)
            }
        }
        // An index rewritten on its own (REINDEX), not as part of its table's rewrite.
        for (oid, relation) in after.relations.sorted(by: { $0.value.name < $1.value.name }) where relation.kind == "i" {
            if let old = before.relations[oid], old.filenode != relation.filenode, live.indexTables[relation.name] != nil,
               !planned.rewrites.contains(relation.table) {
                planned.rewrites.append(relation.name)
            }
        }
    }

    /// Adds the modes read from the SQL (see ``StatementLocks``) and the tables it scans,
    /// each name found in the scratch schema as it was `before` the statement and named as
    /// at `start`.
    func merge(_ declared: StatementLocks, seenIn before: Observation, start: Observation, into planned: inout PlannedStatement) {
        func liveName(_ name: String, kinds: Set<String>) -> String? {
            guard let (oid, relation) = before.relations.first(where: { $0.value.name == name && kinds.contains($0.value.kind) }) else {
                return kinds.contains("i") ? live.indexTables[name] : name
            }
            return kinds.contains("i") ? start.relations[relation.tableOID]?.name : start.relations[oid]?.name
        }
        for (relation, mode) in declared.locks {
            if let name = liveName(relation, kinds: ["r", "p", "m"]), live.sizes[name] != nil {
                add(PlannedLock(relation: name, mode: mode), to: &planned)
            }
        }
        for (index, mode) in declared.indexTableLocks {
            if let table = liveName(index, kinds: ["i", "I"]), live.sizes[table] != nil { add(PlannedLock(relation: table, mode: mode), to: &planned) }
        }
        // A new partition's rows must not be in the parent's default partition: it is read.
        let defaults = declared.partitionParents.compactMap { liveName($0, kinds: ["p"]).flatMap { live.defaultPartitions[$0] } }
        for partition in defaults { add(PlannedLock(relation: partition, mode: .accessExclusive), to: &planned) }
        for scanned in declared.scans + defaults {
            guard let table = liveName(scanned, kinds: ["r", "p", "m"]), live.sizes[table] != nil,
                  !planned.scans.contains(table), !planned.rewrites.contains(table) else { continue }
            planned.scans.append(table)
        }
        planned.locks.sort { ($0.mode, $1.relation) > ($1.mode, $0.relation) }
    }

    /// Keeps the strongest mode per relation.
    private func add(_ lock: PlannedLock, to planned: inout PlannedStatement) {
        if let index = planned.locks.firstIndex(where: { $0.relation == lock.relation }) {
            planned.locks[index].mode = max(planned.locks[index].mode, lock.mode)
        } else {
            planned.locks.append(lock)
        }
    }
}
