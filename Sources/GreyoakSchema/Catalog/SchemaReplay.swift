import Foundation
import GreyoakPostgres
import Logging

/// Builds the schema that migrations (or a SQL file) describe, from nothing, and reads its
/// catalog, without changing the live database: what `verify` compares with, and what
/// `revision --autogenerate` diffs.
///
/// Where, in order of preference: the `--dev-url` database when one is given (wiped before
/// and after, Atlas's "dev database"), else a ``ScratchDatabase`` when the role may create
/// databases, else a ``ScratchSchema`` of the live database, rolled back. Only the databases
/// load any file that psql runs on an empty database (files that create schemas and
/// extensions, or name `public.t`). When a replay fails in a database, it is tried once more
/// in a scratch schema, where what the live database holds (an extension installed by hand)
/// is found; if that fails too, the first error is the one reported.
public struct SchemaReplay {
    /// Where a catalog was built, for the message that says so.
    public enum Place: Equatable, Sendable, CustomStringConvertible {
        case scratchDatabase(String)
        case devDatabase
        case scratchSchema(reason: String)

        public var description: String {
            switch self {
            case let .scratchDatabase(name): "a scratch database (\(name), dropped)"
            case .devDatabase: "the --dev-url database"
            case let .scratchSchema(reason): "a scratch schema of the live database, rolled back (\(reason))"
            }
        }

        /// The kind alone, for a generated file (which must not change from run to run).
        public var kind: String {
            switch self {
            case .scratchDatabase: "a scratch database"
            case .devDatabase: "the --dev-url database"
            case .scratchSchema: "a scratch schema"
            }
        }
    }

    let connection: Connection
    let devURL: ConnectionSettings?
    let logger: Logger

    public init(connection: Connection, devURL: ConnectionSettings? = nil, logger: Logger) {
        self.connection = connection
        self.devURL = devURL
        self.logger = logger
    }

    /// The catalog that `fill` builds on the connection it is given, and where it was built.
    package func catalog(fill: (Connection) throws -> Void) throws -> (SchemaCatalog, Place) {
        let (catalogs, place) = try catalogs(of: nil, fill: fill)
        return (catalogs[0], place)
    }

    /// The catalogs of `schemas` (nil: the current schema alone) that `fill` builds, in the
    /// same order, and where they were built. Schemas other than the current one need a
    /// database (a scratch schema holds one schema only).
    package func catalogs(of schemas: [String]?, fill: (Connection) throws -> Void) throws -> ([SchemaCatalog], Place) {
        let current = try connection.execute("SELECT current_schema()")[0, 0] ?? "public"
        let schemas = schemas ?? [current]
        let firstError: any Error
        let reason: String
        do {
            if let devURL {
                let dev = try DevDatabase(settings: devURL, live: connection, logger: logger)
                return (try dev.use { try Self.build(on: $0, current: current, schemas: schemas, fill: fill) }, .devDatabase)
            }
            if let scratch = try ScratchDatabase.create(connection, logger: logger) {
                return (try scratch.use { try Self.build(on: $0, current: current, schemas: schemas, fill: fill) }, .scratchDatabase(scratch.name))
            }
            return (try inScratchSchema(current: current, schemas: schemas, fill: fill),
                    .scratchSchema(reason: "the role may not create databases: pass --dev-url"))
        } catch {
            guard error is ReplayError else { throw error }
            firstError = error
            reason = "the replay failed in an empty database, which has only what the files create"
        }
        do {
            let catalogs = try inScratchSchema(current: current, schemas: schemas, fill: fill)
            logger.info("the replay needed the live database's objects (\(firstError)); replayed in a scratch schema instead")
            return (catalogs, .scratchSchema(reason: reason))
        } catch {
            throw (firstError as? ReplayError)?.underlying ?? firstError
        }
    }

    /// Runs `body` on an empty database greyoak may do anything in (the `--dev-url` one, or
    /// a scratch database, dropped after), with the current schema made and first on its
    /// search path; nil when the role may create no database (the caller falls back to a
    /// scratch schema).
    package func inEmptyDatabase<T>(_ body: (Connection) throws -> T) throws -> (T, Place)? {
        let current = try connection.execute("SELECT current_schema()")[0, 0] ?? "public"
        func prepared(_ scratch: Connection) throws -> T {
            if current != "public" {
                let quoted = SchemaCatalog().quote(current)
                try scratch.execute("CREATE SCHEMA IF NOT EXISTS \(quoted)")
                try scratch.execute("SET search_path TO \(quoted)")
            }
            return try body(scratch)
        }
        if let devURL {
            let dev = try DevDatabase(settings: devURL, live: connection, logger: logger)
            return (try dev.use(prepared), .devDatabase)
        }
        if let scratch = try ScratchDatabase.create(connection, logger: logger) {
            return (try scratch.use(prepared), .scratchDatabase(scratch.name))
        }
        return nil
    }

    private func inScratchSchema(current: String, schemas: [String], fill: (Connection) throws -> Void) throws -> [SchemaCatalog] {
        guard schemas == [current] else {
            throw GreyoakError(.usage, "--schema \(schemas.joined(separator: " --schema ")) needs the migrations replayed in a database, and this role may not create one",
                               hint: "pass --dev-url with a database greyoak may wipe")
        }
        return [try ScratchSchema.catalog(connection) { try fill(connection) }]
    }

    /// Fills an empty database, then reads each of `schemas` with it alone on the search path.
    private static func build(on connection: Connection, current: String, schemas: [String],
                              fill: (Connection) throws -> Void) throws -> [SchemaCatalog] {
        let quoted = SchemaCatalog().quote(current)
        if current != "public" {
            try connection.execute("CREATE SCHEMA IF NOT EXISTS \(quoted)")
            try connection.execute("SET search_path TO \(quoted)")
        }
        do {
            try fill(connection)
        } catch {
            throw ReplayError(underlying: error)
        }
        try connection.execute("RESET ALL")
        return try schemas.map { schema in
            try connection.execute("SET search_path TO \(SchemaCatalog().quote(schema))")
            return try SchemaCatalog.read(connection, schema: schema)
        }
    }

    /// A failure of the SQL replayed, as opposed to one of making the place to replay in.
    struct ReplayError: Error, CustomStringConvertible {
        var underlying: any Error
        var description: String { "\(underlying)" }
    }

    /// The catalog a SQL file builds (`revision --autogenerate --from-schema`).
    public func loading(_ path: String) throws -> (SchemaCatalog, Place) {
        let (catalogs, place) = try loading(path, schemas: nil)
        return (catalogs[0], place)
    }

    /// The catalogs of `schemas` (nil: the current one) that a SQL file builds.
    public func loading(_ path: String, schemas: [String]?) throws -> ([SchemaCatalog], Place) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw GreyoakError(.invalidInput, "cannot read \(path) as UTF-8 text")
        }
        return try catalogs(of: schemas) { connection in
            for statement in SQLSplitter.split(text) {
                do {
                    try connection.execute(statement.text)
                } catch {
                    throw GreyoakError(.invalidInput, "\(path):\(statement.line): \(error)",
                                       hint: "the file must build the schema from nothing, as psql would run it on an empty database")
                }
            }
        }
    }
}
