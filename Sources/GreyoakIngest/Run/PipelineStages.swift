import Dispatch
import Foundation
import Logging
import Synchronization
import GreyoakPostgres

/// The wiring of one pass over the input: the stages of the README's diagram, each on its
/// own Dispatch queue, joined by ``BoundedQueue``s so that memory stays flat however large
/// the input:
///
///     reader ──chunks──▶ parser ──batches──▶ validator ──COPY data──▶ writer 1…N
///
/// A failure in any stage cancels every queue, so that the others stop too. The load mode
/// is decided on the calling (coordinator's) thread, so that no connection crosses threads.
struct PipelineStages: Sendable {
    let files: [InputFile]
    /// Standard input's kept copy, when `files` has it.
    let spool: StdinSpool?
    let options: IngestOptions
    let progress: IngestProgress
    let logger: Logger

    private enum Chunk: Sendable {
        case data(Int, [UInt8])
        case end(Int)
    }

    /// Runs reader, parser, validator and writers' COPY to the end of the input, blocking
    /// the calling thread: the coordinator's, which answers the load-mode question.
    ///
    /// - Parameters:
    ///   - probe: Picks the load mode from the first batch's dates and, in
    ///     ``LoadMode/compare``, reads `scores`' rows for the validator, on the calling
    ///     thread with the coordinator's connection; nil means staging.
    ///   - allowDirect: Whether the probe may pick ``LoadMode/direct``.
    ///   - inMemory: How a dry run finds repeated keys; nil for a load.
    func run(into writers: [StagingWriter], probe: LoadedDatesProbe?, allowDirect: Bool = true,
             inMemory: InMemoryDuplicateCheck?) -> StreamOutcome {
        let gate = LoadModeGate()
        let existing = ExistingRowsChannel()
        let asks = probe != nil
        let chunks = BoundedQueue<Chunk>(capacity: 4)
        let batches = BoundedQueue<RecordBatch>(capacity: 3)
        let fatal = Mutex<(any Error)?>(nil)
        let stopAll: @Sendable (any Error) -> Void = { error in
            fatal.withLock { if $0 == nil { $0 = error } }
            chunks.cancel()
            batches.cancel()
            gate.cancel()
            existing.end()
            writers.forEach { $0.input.cancel() }
        }
        let group = DispatchGroup()
        for writer in writers { writer.start(mode: gate, group: group, onFailure: stopAll) }

        DispatchQueue(label: "greyoak.read").async(group: group) {
            do {
                for (index, file) in files.enumerated() {
                    let reader = try ChunkReader(file, fileIndex: index, spool: spool)
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

        let outcome = Mutex(StreamOutcome())
        DispatchQueue(label: "greyoak.validate").async(group: group) {
            let validator = ScoreValidator(rules: options.rules, writerCount: writers.count, files: files,
                                           duplicatePolicy: options.onDuplicate, inMemory: inMemory)
            validator.errorsToKeep = min(options.maxReport, StreamOutcome.maxErrorsKept)
            var rejects: RejectsFile?
            var local = StreamOutcome()
            defer {
                existing.end()
                if let rows = validator.existing {
                    logger.debug("compared with \(rows.rowsFetched) rows of scores, read in \(rows.fetches) range(s); the validator waited \(String(format: "%.3f", rows.secondsWaited)) s for them")
                }
                outcome.withLock { [local] in $0 = local }
            }
            do {
                if let path = options.rejectsPath, options.maxErrors != nil { rejects = try RejectsFile(path: path) }
                var sending = true
                var decided = writers.isEmpty
                // The first batch's dates decide, on the coordinator's thread, where rows go.
                func decideMode(_ batch: RecordBatch?) throws {
                    let dates = asks ? batch.map(ScoreValidator.dates(of:)) ?? [] : []
                    if asks {
                        gate.ask(dates)
                    } else {
                        gate.set(.staging)
                    }
                    guard let mode = gate.wait() else { throw CancellationError() }
                    local.mode = mode
                    validator.direct = mode == .direct
                    if mode == .compare { validator.existing = ExistingRows(channel: existing, first: dates.min()) }
                    decided = true
                }
                while let batch = batches.take() {
                    if !decided { try decideMode(batch) }
                    let result = try validator.process(batch, wantRejects: rejects != nil)
                    local.rowsRead += result.goodRows + result.rejectedRows
                    local.rejected += result.rejectedRows
                    local.unchanged += result.unchanged
                    local.errorCount += result.errorCount
                    local.errors += result.errors
                    try rejects?.write(result.rejects)
                    progress.add(rows: result.goodRows + result.rejectedRows)
                    // Past the error budget nothing will be committed: stop feeding the
                    // database but keep validating, to report every error.
                    if local.rejected > (options.maxErrors ?? 0) { sending = false }
                    if sending {
                        for (writer, chunk) in zip(writers, result.chunks) where !chunk.rows.isEmpty {
                            guard writer.input.put(chunk) else { sending = false; break }
                        }
                    }
                }
                try rejects?.close()
                if !decided { try decideMode(nil) }
                local.duplicates = validator.duplicates
                local.screen = validator.screen
                writers.forEach { $0.input.close() }
            } catch is CancellationError {
            } catch {
                stopAll(error)
            }
        }

        // The coordinator's part: answer the validator's question, read what it compares
        // with, then wait for the end.
        if let probe, !writers.isEmpty, let dates = gate.awaitQuestion() {
            let mode = probe.mode(for: dates, allowDirect: allowDirect)
            gate.set(mode)
            if mode == .compare { existing.serve(probe.existingRows) }
        }
        group.wait()
        for writer in writers {
            if let error = writer.waitForLoad() { fatal.withLock { if $0 == nil { $0 = error } } }
        }
        var result = outcome.withLock { $0 }
        result.fatal = fatal.withLock { $0 }
        return result
    }
}
