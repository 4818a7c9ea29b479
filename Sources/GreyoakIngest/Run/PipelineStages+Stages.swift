import Dispatch
import Foundation
import Logging
import GreyoakPostgres

/// The stages of ``PipelineStages``: each runs on its own queue until its input ends or the
/// pass is stopped.
extension PipelineStages {
    /// The reader: each file's bytes in chunks, then its end.
    func read(_ pass: Pass) {
        do {
            for (index, file) in files.enumerated() {
                let reader = try ChunkReader(file, fileIndex: index, spool: spool)
                var counted = 0
                while let data = try reader.next() {
                    progress.add(bytes: reader.bytesRead - counted)
                    counted = reader.bytesRead
                    guard pass.chunks.put(.data(index, data)) else { return }
                }
                progress.add(bytes: reader.bytesRead - counted)
                guard pass.chunks.put(.end(index)) else { return }
            }
            pass.chunks.close()
        } catch {
            pass.stop(PassFailure(error))
        }
    }

    /// The parser: chunks into batches of records, one parser per file.
    func parse(_ pass: Pass) {
        let emit: (RecordBatch) throws -> Void = { batch in
            // The parser makes a new batch after each emit and never touches this one again.
            nonisolated(unsafe) let batch = batch
            guard pass.batches.put(batch) else { throw CancellationError() }
        }
        var parser: (any RecordParser)?
        do {
            while let chunk = pass.chunks.take() {
                switch chunk {
                case let .data(index, bytes):
                    if parser == nil { parser = try makeParser(index, emit: emit) }
                    try parser!.feed(bytes)
                case let .end(index):
                    try (parser ?? makeParser(index, emit: emit)).finish()
                    parser = nil
                    progress.fileDone()
                }
            }
            pass.batches.close()
        } catch is CancellationError {
        } catch {
            pass.stop(PassFailure(error))
        }
    }

    private func makeParser(_ index: Int, emit: @escaping (RecordBatch) throws -> Void) throws -> any RecordParser {
        let file = files[index]
        let notice: (String) -> Void = { logger.notice("\($0)") }
        return file.format == .csv
            ? try CSVRecordParser(file: file, fileIndex: index, batchSize: options.rowsPerBatch,
                                  ignoreUnknownFields: options.ignoreUnknownFields, maxRecordBytes: options.maxRecordBytes,
                                  notices: notice, emit: emit)
            : JSONRecordParser(file: file, fileIndex: index, batchSize: options.rowsPerBatch,
                               ignoreUnknownFields: options.ignoreUnknownFields, maxRecordBytes: options.maxRecordBytes,
                               notices: notice, emit: emit)
    }

    /// The validator: checks each batch, counts and reports errors, and hands every writer
    /// its rows' COPY data.
    func validate(_ pass: Pass, inMemory: InMemoryDuplicateCheck?) {
        var stage = ValidateStage(stages: self, pass: pass, inMemory: inMemory)
        defer {
            pass.existing.end()
            if let rows = stage.validator.existing {
                logger.debug("compared with \(rows.rowsFetched) rows of scores, read in \(rows.fetches) range(s); the validator waited \(String(format: "%.3f", rows.secondsWaited)) s for them")
            }
            // The stage ends here: its findings (key sets included) go to the coordinator whole.
            nonisolated(unsafe) let local = stage.local
            pass.outcome.put(local)
        }
        do {
            try stage.run()
        } catch is CancellationError {
        } catch {
            pass.stop(PassFailure(error))
        }
    }
}

/// The validator stage's state for one pass.
private struct ValidateStage {
    let stages: PipelineStages
    let pass: PipelineStages.Pass
    let validator: ScoreValidator
    var local = StreamOutcome()
    /// False past the error budget, or once a writer stopped: nothing more is sent.
    private var sending = true
    private var decided: Bool

    init(stages: PipelineStages, pass: PipelineStages.Pass, inMemory: InMemoryDuplicateCheck?) {
        self.stages = stages
        self.pass = pass
        let options = stages.options
        validator = ScoreValidator(rules: options.rules, writerCount: pass.inputs.count, files: stages.files,
                                   duplicatePolicy: options.onDuplicate, inMemory: inMemory)
        validator.errorsToKeep = min(options.maxReport, StreamOutcome.maxErrorsKept)
        validator.newPartitions = pass.spool?.layout
        decided = pass.inputs.isEmpty
    }

    mutating func run() throws {
        let options = stages.options
        var rejects: RejectsFile?
        if let path = options.rejectsPath, options.maxErrors != nil { rejects = try RejectsFile(path: path) }
        while let batch = pass.batches.take() {
            if !decided { try decideMode(batch) }
            let result = try validator.process(batch, wantRejects: rejects != nil)
            count(result)
            try rejects?.write(result.rejects)
            stages.progress.add(rows: result.goodRows + result.rejectedRows)
            // Past the error budget nothing will be committed: stop feeding the database
            // but keep validating, to report every error.
            if local.rejected > (options.maxErrors ?? 0) { sending = false }
            if sending {
                if let spool = pass.spool, let attach = result.attach, !attach.keys.isEmpty { try spool.add(attach) }
                for (input, chunk) in zip(pass.inputs, result.chunks) where !chunk.rows.isEmpty {
                    // Each writer's chunk is new for this batch, and nothing here touches it again.
                    nonisolated(unsafe) let chunk = chunk
                    guard input.put(chunk) else { sending = false; break }
                }
            }
        }
        try rejects?.close()
        if !decided { try decideMode(nil) }
        local.duplicates = validator.duplicates
        local.attachDuplicates = validator.attachDuplicates
        if let spool = pass.spool, sending { local.newPartitions = try spool.finish() }
        local.screen = validator.screen
        pass.inputs.forEach { $0.close() }
    }

    private mutating func count(_ result: ScoreValidator.Output) {
        local.rowsRead += result.goodRows + result.rejectedRows
        local.rejected += result.rejectedRows
        local.unchanged += result.unchanged
        local.errorCount += result.errorCount
        local.errors += result.errors
    }

    /// The first batch's dates decide, on the coordinator's thread, where rows go.
    private mutating func decideMode(_ batch: RecordBatch?) throws {
        let dates = pass.asks ? batch.map(ScoreValidator.dates(of:)) ?? [] : []
        if pass.asks {
            pass.gate.ask(dates)
        } else {
            pass.gate.set(.staging)
        }
        guard let mode = pass.gate.wait() else { throw CancellationError() }
        local.mode = mode
        validator.direct = mode == .direct
        if mode == .compare { validator.existing = ExistingRows(channel: pass.existing, first: dates.min()) }
        decided = true
    }
}
