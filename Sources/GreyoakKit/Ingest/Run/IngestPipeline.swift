import Dispatch
import Foundation
import Logging

/// `greyoak ingest`: schema gate → read → parse → validate → COPY into staging → upsert.
///
/// Stages run concurrently on their own Dispatch queues, joined by ``BoundedQueue``s so
/// memory stays flat however large the input:
///
///     reader ──chunks──▶ parser ──batches──▶ validator ──COPY data──▶ writer 1…N
///
/// A coordinator connection holds the shared schema lock for the whole run (migrations take
/// it exclusively) and, for the upsert and commit, the load lock that serialises greyoak
/// runs with each other. Writers own disjoint ticker ranges; none commits before all have
/// finished their upsert, and any failure rolls all of them back.
public final class IngestPipeline {
    let options: IngestOptions
    let settings: ConnectionSettings
    let graph: RevisionGraph
    let logger: Logger
    public let progress: IngestProgress
    let files: [InputFile]

    /// The advisory lock held while upserting and committing ("greyoakL").
    static let loadLockKey: Int64 = 0x67_7265_796F_614C

    public init(options: IngestOptions, settings: ConnectionSettings, graph: RevisionGraph, logger: Logger) throws {
        self.options = options
        self.settings = settings
        self.graph = graph
        self.logger = logger
        files = try InputFile.expandSome(options.paths, format: options.format)
        progress = IngestProgress(totalFiles: files.count, totalBytes: IngestProgress.totalBytes(of: files))
    }

    /// Runs the whole load.
    ///
    /// - Returns: The summary of a run that committed (or, for `--dry-run` and
    ///   `--no-commit`, would have).
    /// - Throws: ``IngestFailure`` for invalid input (nothing written), ``GreyoakError``
    ///   for the schema gate, locks and connections, ``PostgresError`` for the database.
    public func run() throws -> IngestSummary {
        var summary = IngestSummary()
        summary.files = files.count

        // The coordinator connects first: on a server with few free connections it must get
        // one, while the run can do with fewer writers than asked for.
        let coordinator = try Connection(settings, logger: logger)
        defer { coordinator.close() }
        // Writers connect while the coordinator checks the gate; none writes before it passed.
        var writers = makeWriters(options.dryRun ? 0 : options.writers)
        defer { writers.forEach { $0.close() } }
        // The gate: nothing is read before the database is known to be at head.
        if options.autoMigrate {
            try Migrator(graph: graph, connection: coordinator, logger: logger, lockTimeout: options.lockTimeout).upgrade(to: "heads")
        }
        try SchemaLock.acquire(coordinator, mode: .shared, timeout: options.lockTimeout, logger: logger)
        try Migrator(graph: graph, connection: coordinator, logger: logger).requireAtHead()
        writers = try connected(writers)
        summary.writers = writers.count

        // Standard input cannot be read twice, so only files may try the direct path.
        if !options.dryRun, files.allSatisfy({ $0.path != nil }),
           let summary = try load(coordinator, writers: writers, summary: summary, allowDirect: true) {
            return summary
        }
        for writer in writers { try writer.reopen() }
        return try load(coordinator, writers: writers, summary: summary, allowDirect: false)!
    }

    private func makeWriters(_ count: Int) -> [StagingWriter] {
        let writers = (0..<count).map { StagingWriter(index: $0) }
        for writer in writers { writer.prepare(settings: settings, logger: logger) }
        return writers
    }

    /// The writers that connected. On a server near `max_connections`, or under a role's or
    /// database's connection limit, some may not have: the load goes on with fewer, and says
    /// so. When none did (writers racing for the last slot can all lose it), one writer tries
    /// again alone for a few seconds: a closed connection's slot frees when its server
    /// process has exited.
    private func connected(_ writers: [StagingWriter]) throws -> [StagingWriter] {
        let failures = writers.map { $0.waitForConnection() }
        guard let failure = failures.lazy.compactMap({ $0 }).first else { return writers }
        var connected = zip(writers, failures).filter { $0.1 == nil }.map(\.0)
        if connected.isEmpty {
            for delay in [0.05, 0.1, 0.2, 0.4, 0.8, 1.6] {
                Thread.sleep(forTimeInterval: delay)
                let writer = makeWriters(1)
                if writer[0].waitForConnection() == nil {
                    connected = writer
                    break
                }
            }
        }
        guard !connected.isEmpty else { throw failure }
        logger.warning("only \(connected.count) of \(writers.count) writer connections opened (\(failure)); loading with \(connected.count)")
        return connected
    }

    /// A dry run's second pass, when its first one screened keys that may repeat: the input
    /// again, remembering exactly just those keys (every key, past the screen's limit).
    private func recheck(_ screen: KeyScreen) -> StreamOutcome? {
        guard screen.overflowed || !screen.candidates.isEmpty else { return nil }
        logger.info(screen.overflowed
            ? "more than \(KeyScreen.maxCandidates) keys may occur more than once; reading the input again to check every key"
            : "\(screen.candidates.count) key(s) may occur more than once; reading the input again to check them")
        progress.restart()
        return stream(into: [], decide: nil, inMemory: .exact(candidates: screen.overflowed ? nil : screen.candidates))
    }

    /// One attempt at the load; nil when the direct path met a row that exists already and
    /// the run must go again through the staging table.
    private func load(_ coordinator: Connection, writers: [StagingWriter], summary: IngestSummary,
                      allowDirect: Bool) throws -> IngestSummary? {
        var summary = summary
        let probe = LoadedDatesProbe(coordinator, logger: logger)
        var outcome = stream(into: writers, decide: allowDirect ? probe.mode : nil, inMemory: dryRunCheck)
        if outcome.fatal == nil, let screen = outcome.screen, let again = recheck(screen) { outcome = again }
        defer { if probe.holdsLoadLock { probe.releaseLoadLock() } }
        if outcome.mode == .direct, let error = outcome.fatal as? PostgresError, error.sqlState == SQLState.uniqueViolation {
            // The writers keep their connections; run() reopens them for the staging path.
            logger.info("a key is in scores already or twice in the input (\(error.detail ?? error.message)); loading again through the staging table")
            progress.restart()
            return nil
        }
        summary.rowsRead = outcome.rowsRead
        summary.rejected = outcome.rejected
        func finish(_ label: String) -> IngestSummary {
            summary.outcome = label
            summary.seconds = progress.snapshot.elapsed
            summary.rowsPerSecond = Double(summary.rowsRead) / max(summary.seconds, 1e-9)
            return summary
        }
        func refuse(_ code: GreyoakError.Code, _ message: String, errors: [RowError], count: Int, hint: String? = nil) -> IngestFailure {
            writers.forEach { $0.rollback() }
            // A refused run loaded nothing, so a rejects file would only mislead.
            if let path = options.rejectsPath, options.maxErrors != nil { try? FileManager.default.removeItem(atPath: path) }
            return IngestFailure(code: code, message: message, errors: errors, errorCount: count, summary: finish("rolled back"), hint: hint)
        }

        if let fatal = outcome.fatal {
            if let row = fatal as? RowError {
                throw refuse(.invalidInput, "nothing was loaded: \(row.file) cannot be read past this point",
                             errors: outcome.errors + [row], count: outcome.errorCount + 1)
            }
            writers.forEach { $0.rollback() }
            throw fatal
        }
        let allowed = options.maxErrors ?? 0
        if outcome.rejected > allowed {
            let message = options.maxErrors == nil
                ? "nothing was loaded: \(outcome.rejected) of \(outcome.rowsRead) rows are invalid"
                : "nothing was loaded: \(outcome.rejected) rows are invalid, more than --max-errors \(allowed)"
            throw refuse(.invalidInput, message, errors: outcome.errors, count: outcome.errorCount,
                         hint: options.maxErrors == nil ? "fix the files, or load the good rows with --max-errors N --rejects FILE" : nil)
        }
        if options.dryRun {
            summary.unchanged = 0
            logger.info("dry run: \(outcome.rowsRead - outcome.rejected) rows are valid; nothing was sent to the database")
            return finish("dry run")
        }
        if outcome.mode == .direct {
            summary.inserted = writers.reduce(0) { $0 + $1.stagedRows }
            return try commit(writers, finish: finish)
        }

        // Duplicates, found per writer (a key always lands on the same writer).
        progress.set(phase: "checking duplicates")
        var duplicateErrors: [RowError] = []
        var duplicateCount = 0
        for (index, writer) in writers.enumerated() {
            let filter = outcome.duplicates
            let candidates = filter.map { $0.overflowed ? nil : $0.candidates[index] } ?? nil
            let (groups, total) = try writer.duplicates(policy: options.onDuplicate, candidates: candidates, limit: options.maxReport)
            duplicateCount += total
            duplicateErrors += groups.compactMap(duplicateError)
        }
        if duplicateCount > 0 {
            throw refuse(.invalidInput, "nothing was loaded: \(duplicateCount) key(s) appear more than once",
                         errors: Array(duplicateErrors.prefix(options.maxReport)), count: duplicateCount,
                         hint: "keep the last occurrence with --on-duplicate last")
        }

        // Upsert on every writer at once, under the load lock.
        progress.set(phase: "upserting")
        try Self.takeLoadLock(coordinator, logger: logger)
        defer { _ = try? coordinator.execute("SELECT pg_advisory_unlock(\(Self.loadLockKey))") }
        let results = LockedBox<[Result<(inserted: Int, updated: Int), any Error>?]>(Array(repeating: nil, count: writers.count))
        DispatchQueue.concurrentPerform(iterations: writers.count) { index in
            let result = Result { try writers[index].upsert() }
            results.mutate { $0[index] = result }
        }
        var staged = 0
        for (index, result) in results.value.enumerated() {
            switch result! {
            case let .success(counts):
                summary.inserted += counts.inserted
                summary.updated += counts.updated
                staged += writers[index].stagedRows
            case let .failure(error):
                writers.forEach { $0.rollback() }
                throw error
            }
        }
        summary.unchanged = staged - summary.inserted - summary.updated
        return try commit(writers, finish: finish)
    }

    /// Commits every writer, or rolls all back for `--no-commit`.
    private func commit(_ writers: [StagingWriter], finish: (String) -> IngestSummary) throws -> IngestSummary {
        if options.noCommit {
            writers.forEach { $0.rollback() }
            return finish("rolled back (--no-commit)")
        }
        progress.set(phase: "committing")
        for (index, writer) in writers.enumerated() {
            do {
                try writer.commit()
            } catch {
                writers[(index + 1)...].forEach { $0.rollback() }
                throw GreyoakError(.databaseError,
                                   "writer \(index + 1) of \(writers.count) failed to commit after \(index) had committed: \(error)",
                                   hint: index > 0 ? "run the same files again: rows already committed read as unchanged and the rest load" : nil)
            }
        }
        return finish("committed")
    }

    static func takeLoadLock(_ connection: Connection, logger: Logger) throws {
        if try connection.execute("SELECT pg_try_advisory_lock(\(Self.loadLockKey))")[0, 0] == "t" { return }
        let holders = try SchemaLock.holders(connection, key: Self.loadLockKey)
        logger.info("waiting for another greyoak load to finish (load lock held by \(holders))")
        try connection.execute("SELECT pg_advisory_lock(\(Self.loadLockKey))")
    }

    private func duplicateError(_ row: [String?]) -> RowError? {
        guard let ticker = row[0], let date = row[1], let mode = row[2] else { return nil }
        let fileIndexes = (row[3] ?? "").split(separator: ",").compactMap { Int($0) }
        let lines = (row[4] ?? "").split(separator: ",").compactMap { Int($0) }
        guard fileIndexes.count >= 2, lines.count == fileIndexes.count else { return nil }
        let places = zip(fileIndexes, lines).map { file, line in "\(files[file].name):\(location(file, line))" }
        let shownDate = date.hasSuffix(" 00:00:00") ? String(date.dropLast(9)) : date
        return RowError(file: files[fileIndexes[1]].name, fileIndex: fileIndexes[1], location: location(fileIndexes[1], lines[1]),
                        column: "ticker", value: ticker,
                        rule: "duplicate key (\(ticker), \(shownDate), \(mode)): also at \(places[0])\(places.count > 2 ? " and \(places.count - 2) more place(s)" : "")")
    }

    private func location(_ file: Int, _ ordinal: Int) -> RowLocation {
        files[file].format == .csv ? .line(ordinal) : .record(ordinal)
    }

    // MARK: - Streaming stages

    struct StreamOutcome {
        var rowsRead = 0
        var rejected = 0
        var errors: [RowError] = []
        var errorCount = 0
        var fatal: (any Error)?
        var duplicates: DuplicateFilter?
        /// A dry run's first pass: the keys that may repeat.
        var screen: KeyScreen?
        var mode = LoadMode.staging
    }

    /// How a dry run's first pass looks for repeated keys: screened when the input can be
    /// read again, else exactly (see ``InMemoryDuplicateCheck``); nil for a load.
    private var dryRunCheck: InMemoryDuplicateCheck? {
        guard options.dryRun else { return nil }
        return files.allSatisfy { $0.path != nil } ? .screen : .exact(candidates: nil)
    }

    private enum Chunk: Sendable {
        case data(Int, [UInt8])
        case end(Int)
    }

    /// Runs reader, parser, validator and writers' COPY to the end of the input.
    ///
    /// - Parameter decide: Picks the load mode from the first batch's dates; nil means staging.
    private func stream(into writers: [StagingWriter], decide: (@Sendable (Set<Int64>) -> LoadMode)?,
                        inMemory: InMemoryDuplicateCheck?) -> StreamOutcome {
        let gate = LoadModeGate()
        let chunks = BoundedQueue<Chunk>(capacity: 4)
        let batches = BoundedQueue<RecordBatch>(capacity: 3)
        let fatal = LockedBox<(any Error)?>(nil)
        let stopAll: @Sendable (any Error) -> Void = { error in
            fatal.mutate { if $0 == nil { $0 = error } }
            chunks.cancel()
            batches.cancel()
            gate.cancel()
            writers.forEach { $0.input.cancel() }
        }
        let group = DispatchGroup()
        for writer in writers { writer.start(mode: gate, group: group, onFailure: stopAll) }

        let files = self.files
        let options = self.options
        let progress = self.progress
        let logger = self.logger

        DispatchQueue(label: "greyoak.read").async(group: group) {
            do {
                for (index, file) in files.enumerated() {
                    let reader = try ChunkReader(file, fileIndex: index)
                    var counted = 0
                    while let data = try reader.next() {
                        progress.add(bytes: reader.bytesRead - counted)
                        counted = reader.bytesRead
                        guard chunks.put(.data(index, data)) else { return }
                    }
                    progress.add(bytes: reader.bytesRead - counted)
                    guard chunks.put(.end(index)) else { return }
                }
                chunks.close()
            } catch {
                stopAll(error)
            }
        }

        DispatchQueue(label: "greyoak.parse").async(group: group) {
            let emit: (RecordBatch) throws -> Void = { batch in
                guard batches.put(batch) else { throw CancellationError() }
            }
            let notice: (String) -> Void = { logger.notice("\($0)") }
            func makeParser(_ index: Int) throws -> any RecordParser {
                let file = files[index]
                return file.format == .csv
                    ? try CSVRecordParser(file: file, fileIndex: index, batchSize: options.rowsPerBatch,
                                          ignoreUnknownFields: options.ignoreUnknownFields, maxRecordBytes: options.maxRecordBytes,
                                          notices: notice, emit: emit)
                    : JSONRecordParser(file: file, fileIndex: index, batchSize: options.rowsPerBatch,
                                       ignoreUnknownFields: options.ignoreUnknownFields, maxRecordBytes: options.maxRecordBytes,
                                       notices: notice, emit: emit)
            }
            var parser: (any RecordParser)?
            do {
                while let chunk = chunks.take() {
                    switch chunk {
                    case let .data(index, bytes):
                        if parser == nil { parser = try makeParser(index) }
                        try parser!.feed(bytes)
                    case let .end(index):
                        try (parser ?? makeParser(index)).finish()
                        parser = nil
                        progress.fileDone()
                    }
                }
                batches.close()
            } catch is CancellationError {
            } catch {
                stopAll(error)
            }
        }

        let outcome = LockedBox(StreamOutcome())
        DispatchQueue(label: "greyoak.validate").async(group: group) {
            let validator = ScoreValidator(rules: options.rules, writerCount: writers.count, files: files,
                                           duplicatePolicy: options.onDuplicate, inMemory: inMemory)
            var rejects: RejectsFile?
            var local = StreamOutcome()
            defer { outcome.mutate { $0 = local } }
            do {
                if let path = options.rejectsPath, options.maxErrors != nil { rejects = try RejectsFile(path: path) }
                var sending = true
                var decided = writers.isEmpty
                func decideMode(_ batch: RecordBatch?) {
                    let mode = batch.flatMap { batch in decide.map { $0(ScoreValidator.dates(of: batch)) } } ?? .staging
                    local.mode = mode
                    validator.direct = mode == .direct
                    gate.set(mode)
                    decided = true
                }
                while let batch = batches.take() {
                    if !decided { decideMode(batch) }
                    let result = validator.process(batch, wantRejects: rejects != nil)
                    local.rowsRead += result.goodRows + result.rejectedRows
                    local.rejected += result.rejectedRows
                    local.errorCount += result.errors.count
                    if local.errors.count < options.maxReport {
                        local.errors += result.errors.prefix(options.maxReport - local.errors.count)
                    }
                    try rejects?.write(result.rejects)
                    progress.add(rows: result.goodRows + result.rejectedRows)
                    // Past the error budget nothing will be committed: stop feeding the
                    // database but keep validating, to report every error.
                    if local.rejected > (options.maxErrors ?? 0) { sending = false }
                    if sending {
                        for (writer, buffer) in zip(writers, result.buffers) where !buffer.isEmpty {
                            guard writer.input.put(buffer) else { sending = false; break }
                        }
                    }
                }
                try rejects?.close()
                if !decided { decideMode(nil) }
                local.duplicates = validator.duplicates
                local.screen = validator.screen
                writers.forEach { $0.input.close() }
            } catch {
                stopAll(error)
            }
        }

        group.wait()
        for writer in writers {
            if let error = writer.waitForLoad(), fatal.value == nil { fatal.mutate { $0 = error } }
        }
        var result = outcome.value
        result.fatal = fatal.value
        return result
    }
}
