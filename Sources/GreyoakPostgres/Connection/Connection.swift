internal import CLibPQ
import Foundation
import Logging

/// One libpq connection, owned: closing it (or dropping the last reference) calls `PQfinish`.
///
/// libpq allows one thread at a time on a `PGconn`. `Connection` is deliberately not
/// `Sendable`, so the compiler keeps each one inside the isolation domain that made it;
/// code that runs a connection on a Dispatch queue (the ingest writers) makes it there and
/// never hands it out.
public final class Connection {
    private var handle: OpaquePointer?
    /// Keeps the notice router alive as long as libpq may call it.
    private let notices: NoticeRouter
    public let settings: ConnectionSettings

    /// Connects, or throws ``PostgresError/Code/connectionFailed`` with libpq's reason.
    ///
    /// - Parameters:
    ///   - settings: Where to connect; see ``ConnectionSettings``.
    ///   - logger: Where server notices and warnings go instead of stderr.
    public init(_ settings: ConnectionSettings, logger: Logger) throws(PostgresError) {
        self.settings = settings
        notices = NoticeRouter(logger: logger, settings: settings)
        // With expand_dbname = 1 the dbname entry may be a URL or conninfo string; a NULL
        // or empty value is skipped, which leaves libpq to read PG* and .pgpass.
        // Keywords are read in order, a later one winning: the defaults before dbname are
        // overridden by the same parameters in the user's URL or conninfo. Keepalives notice
        // a dead peer in about a minute instead of the system's two hours; connect_timeout
        // bounds a connection attempt to a host that does not answer (PGCONNECT_TIMEOUT wins).
        var keywords = ["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"]
        var values: [String?] = ["1", "30", "10", "3"]
        if ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil {
            keywords.append("connect_timeout")
            values.append("10")
        }
        // application_name comes after dbname, so it wins over one in the URL: every greyoak
        // session says which part of greyoak it is.
        keywords += ["dbname", "fallback_application_name", "application_name"]
        values += [settings.conninfo.isEmpty ? nil : settings.conninfo, "greyoak", settings.applicationName]
        // Only the first dbname is expanded as a URL or conninfo; a later one is a plain name
        // that overrides the database it names.
        if let database = settings.databaseName {
            keywords.append("dbname")
            values.append(database)
        }
        let options = Self.startupOptions(settings)
        handle = Self.connect(keywords, values, options: options)
        // PgBouncer refuses the `options` startup parameter unless told to ignore it: it is a
        // pooler, and greyoak sets what it would have carried in each transaction instead.
        if let refused = handle, options != nil, PQstatus(refused) != CONNECTION_OK,
           String(cString: PQerrorMessage(refused)).contains("unsupported startup parameter: options") {
            PQfinish(refused)
            handle = Self.connect(keywords, values, options: nil)
            pooled = true
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let reason = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            // The server asked for the password, so it is up and answered this login.
            let loginRefused = handle.map { PQconnectionUsedPassword($0) == 1 } ?? false
            close()
            var error = PostgresError(
                code: .connectionFailed,
                message: settings.scrub(reason.trimmingCharacters(in: .whitespacesAndNewlines)),
                activity: "connecting to \(settings)"
            )
            error.connectionBad = true
            error.loginRefused = loginRefused
            throw error
        }
        PQsetNoticeProcessor(handle, { context, message in
            guard let context, let message else { return }
            Unmanaged<NoticeRouter>.fromOpaque(context).takeUnretainedValue().route(String(cString: message))
        }, Unmanaged.passUnretained(notices).toOpaque())
        do {
            try PoolerCheck.run(self)
        } catch {
            close()
            throw error
        }
    }

    private static func connect(_ keywords: [String], _ values: [String?], options: String?) -> OpaquePointer? {
        let keywords = keywords + (options == nil ? [] : ["options"])
        let values = values + (options == nil ? [] : [options])
        return withCStringArray(keywords) { keys in
            withCStringArray(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
    }

    deinit { close() }

    /// Whether a connection pooler stands between greyoak and the server (see
    /// ``PoolerCheck``): then no session state may outlive a transaction, and greyoak sets
    /// ``ConnectionSettings/startupSettings`` with `SET LOCAL` in each transaction.
    public internal(set) var pooled = false

    /// Whether the session is outside any transaction block.
    package var isIdle: Bool { handle.map { PQtransactionStatus($0) == PQTRANS_IDLE } ?? false }

    /// The server process serving this connection (`pg_backend_pid()`), 0 when closed. Behind a
    /// pooler (``pooled``) a number the pooler made up: ask `pg_backend_pid()` inside a
    /// transaction for the server process that runs it.
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// The `options` startup parameter: the user's own (from the URL, else `PGOPTIONS`)
    /// followed by greyoak's `-c name=value` settings, or nil when greyoak adds none.
    private static func startupOptions(_ settings: ConnectionSettings) -> String? {
        guard !settings.startupSettings.isEmpty else { return nil }
        let fromURL = settings.conninfo.isEmpty ? nil : RedactedURL.parse(settings.conninfo)?["options"]
        let user = fromURL ?? ProcessInfo.processInfo.environment["PGOPTIONS"]
        // Spaces and backslashes in an -c value are escaped with a backslash (libpq's rule).
        let ours = settings.startupSettings.sorted { $0.key < $1.key }.map { name, value in
            "-c \(name)=" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: " ", with: "\\ ")
        }
        return ([user].compactMap { $0 }.filter { !$0.isEmpty } + ours).joined(separator: " ")
    }

    /// Closes the connection; safe to call more than once.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Runs one statement, or several separated by `;` when there are no parameters.
    ///
    /// Parameters travel in text format, typed by the server from context; `nil` is NULL.
    /// - Returns: The result, which frees itself.
    /// - Throws: ``PostgresError`` with the server's SQLSTATE, detail and hint.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        if pooled && !settings.startupSettings.isEmpty { return try PoolerCheck.executeWithSettings(self, sql, parameters) }
        return try send(sql, parameters)
    }

    /// ``execute(_:_:)`` as the server gets it, without the settings a pooled session needs.
    @discardableResult
    func send(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> QueryResult {
        let conn = try live()
        let raw: OpaquePointer?
        if parameters.isEmpty {
            raw = PQexec(conn, sql)
        } else {
            raw = withCStringArray(parameters, terminated: false) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        let result = try check(raw, sql: sql, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        drainResults()
        return result
    }

    /// Runs `BEGIN`, the body, then `COMMIT`; on any error `ROLLBACK` and rethrows.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Streams data into a `COPY ... FROM STDIN` statement.
    ///
    /// - Parameters:
    ///   - sql: The COPY statement.
    ///   - body: Sends the data through the ``CopySink``; if it throws, the COPY is aborted
    ///     on the server (nothing of it stays) and the error is rethrown.
    /// - Returns: How many rows the server took.
    @discardableResult
    public func copyIn(_ sql: String, _ body: (borrowing CopySink) throws -> Void) throws -> Int {
        let conn = try live()
        _ = try check(PQexec(conn, sql), sql: sql, expecting: [PGRES_COPY_IN])
        let sink = CopySink(conn: conn, settings: settings)
        do {
            try body(sink)
        } catch {
            PQputCopyEnd(conn, "aborted by greyoak: \(error)")
            // A send that failed because the server already rejected a row: the server's
            // error (with its SQLSTATE) says more than libpq's "no COPY in progress".
            var serverError: PostgresError?
            while let raw = PQgetResult(conn) {
                let result = QueryResult(raw)
                if serverError == nil { serverError = result.error(scrub: settings.scrub) }
            }
            if let serverError, (error as? PostgresError)?.code == .copyFailed { throw stamped(serverError).during(Self.abbreviate(sql)) }
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw connectionError(.copyFailed, activity: sql) }
        let result = try check(PQgetResult(conn), sql: sql, expecting: [PGRES_COMMAND_OK])
        drainResults()
        return Int(result.affectedRows)
    }

    /// Streams the data of a `COPY ... TO STDOUT` statement.
    ///
    /// - Parameters:
    ///   - sql: The COPY statement.
    ///   - body: Called with each CopyData message as the server sent it (the server sends
    ///     one row per message, the binary format's header with the first); the bytes live
    ///     only for the call. If it throws, the rest of the data is read and dropped (libpq
    ///     cannot cancel a COPY OUT without closing the session) and the error rethrown.
    /// - Returns: How many rows the server sent.
    @discardableResult
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let conn = try live()
        _ = try check(PQexec(conn, sql), sql: sql, expecting: [PGRES_COPY_OUT])
        var failure: (any Error)?
        while true {
            var data: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &data, 0)
            guard length >= 0, let data else { break }
            defer { PQfreemem(data) }
            if failure == nil {
                do { try body(UnsafeRawBufferPointer(start: data, count: Int(length))) } catch { failure = error }
            }
        }
        // -1: the COPY ended and its result follows; -2: the connection failed.
        let result = try check(PQgetResult(conn), sql: sql, expecting: [PGRES_COMMAND_OK])
        drainResults()
        if let failure { throw failure }
        return Int(result.affectedRows)
    }

    /// Whether the connection is still up: after a failed statement, it tells an error the
    /// server reported (the session goes on) from a lost connection (the outcome unknown).
    public var isAlive: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The value libpq uses for a connection option (`keepalives_idle`, `sslmode`, ...).
    public func option(_ keyword: String) -> String? {
        guard let handle, let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        var entry = options
        while let name = entry.pointee.keyword {
            if String(cString: name) == keyword { return entry.pointee.val.map { String(cString: $0) } }
            entry += 1
        }
        return nil
    }

    // MARK: - Internals

    private func live() throws(PostgresError) -> OpaquePointer {
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            throw stamped(PostgresError(code: .connectionClosed, message: "the connection to the database is closed"))
        }
        return handle
    }

    private func check(_ raw: OpaquePointer?, sql: String, expecting: [ExecStatusType]) throws(PostgresError) -> QueryResult {
        guard let raw else { throw connectionError(.connectionClosed, activity: sql) }
        let result = QueryResult(raw)
        let status = PQresultStatus(raw)
        if expecting.contains(status) { return result }
        drainResults()
        throw stamped(result.error(scrub: settings.scrub) ?? PostgresError(
            code: .protocolViolation,
            message: "the server answered \(String(cString: PQresStatus(status)))",
            activity: Self.abbreviate(sql)
        ))
    }

    /// `error`, marked with whether libpq has given the connection up: what tells a lost
    /// connection from an error the server reported in a session that goes on.
    private func stamped(_ error: PostgresError) -> PostgresError {
        var error = error
        error.connectionBad = handle.map { PQstatus($0) == CONNECTION_BAD } ?? true
        return error
    }

    private func connectionError(_ code: PostgresError.Code, activity: String) -> PostgresError {
        let reason = handle.map { String(cString: PQerrorMessage($0)) } ?? "no connection"
        return stamped(PostgresError(
            code: code, message: settings.scrub(reason.trimmingCharacters(in: .whitespacesAndNewlines)),
            activity: Self.abbreviate(activity)
        ))
    }

    /// libpq requires reading results until NULL before the next command.
    private func drainResults() {
        guard let handle else { return }
        while let extra = PQgetResult(handle) { PQclear(extra) }
    }

    package static func abbreviate(_ sql: String) -> String {
        let line = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }
}

/// Sends data into a running COPY; only ``Connection/copyIn(_:_:)`` makes one.
public struct CopySink: ~Copyable {
    fileprivate let conn: OpaquePointer
    fileprivate let settings: ConnectionSettings

    /// Sends one chunk of COPY data (any size; libpq buffers and flushes it).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard !bytes.isEmpty else { return }
        let ok = PQputCopyData(conn, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        guard ok == 1 else {
            var error = PostgresError(
                code: .copyFailed,
                message: settings.scrub(String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines))
            )
            error.connectionBad = PQstatus(conn) == CONNECTION_BAD
            throw error
        }
    }

    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send($0) }
    }
}

/// Routes libpq notices (`NOTICE:  ...`, `WARNING:  ...`) to a logger instead of stderr.
private final class NoticeRouter {
    let logger: Logger
    let settings: ConnectionSettings
    init(logger: Logger, settings: ConnectionSettings) {
        self.logger = logger
        self.settings = settings
    }

    func route(_ message: String) {
        let text = settings.scrub(message.trimmingCharacters(in: .whitespacesAndNewlines))
        if text.hasPrefix("WARNING") {
            logger.warning("server: \(text)")
        } else {
            logger.notice("server: \(text)")
        }
    }
}

/// Calls `body` with a NULL-terminated (unless `terminated` is false) array of C strings
/// that lives only for the call.
func withCStringArray<R>(_ strings: [String?], terminated: Bool = true, _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { owned.forEach { free($0) } }
    var pointers = owned.map { UnsafePointer($0) }
    if terminated { pointers.append(nil) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
