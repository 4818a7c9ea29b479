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
/// The stages themselves are in `PipelineStages+Stages.swift`.
struct PipelineStages: Sendable {
    let files: [InputFile]
    /// Standard input's kept copy, when `files` has it.
    let spool: StdinSpool?
    let options: IngestOptions
    let progress: IngestProgress
    let logger: Logger

    /// Runs reader, parser, validator and writers' COPY to the end of the input, blocking
    /// the calling thread: the coordinator's, which answers the load-mode question.
    ///
    /// - Parameters:
    ///   - probe: Picks the load mode from the first batch's dates and, in
    ///     ``LoadMode/compare``, reads `scores`' rows for the validator, on the calling
    ///     thread; nil means staging.
    ///   - allowDirect: Whether the probe may pick ``LoadMode/direct``.
    ///   - inMemory: How a dry run finds repeated keys; nil for a load.
    ///   - spool: Where rows of dates no partition holds go (a partitioned `scores` whose new
    ///     partitions the load makes); nil sends every row to the writers.
    func run(into writers: [any LoadWriter], probe: (any LoadModeProbe)?, allowDirect: Bool = true,
             inMemory: InMemoryDuplicateCheck?, spool: AttachSpool? = nil) -> StreamOutcome {
        let pass = Pass(writers: writers.count, asks: probe != nil, spool: spool)
        let group = DispatchGroup()
        for (writer, input) in zip(writers, pass.inputs) {
            writer.start(mode: pass.gate, input: input, group: group, onFailure: pass.stop)
        }
        DispatchQueue(label: "greyoak.read").async(group: group) { read(pass) }
        DispatchQueue(label: "greyoak.parse").async(group: group) { parse(pass) }
        DispatchQueue(label: "greyoak.validate").async(group: group) { validate(pass, inMemory: inMemory) }

        // The coordinator's part: answer the validator's question, read what it compares
        // with, then wait for the end.
        if let probe, !writers.isEmpty, let dates = pass.gate.awaitQuestion() {
            do {
                let mode = try probe.mode(for: dates, allowDirect: allowDirect)
                pass.gate.set(mode)
                if mode == .compare { pass.existing.serve(probe.existingRows) }
            } catch {
                pass.stop(.failed(error))
            }
        }
        group.wait()
        for writer in writers {
            if let failure = writer.waitForLoad() { pass.record(failure) }
        }
        var result = StreamOutcome()
        if case let .item(outcome) = pass.outcome.poll() { result = outcome }
        result.fatal = pass.fatal.withLock { $0 }
        return result
    }

    /// What the stages of one pass share.
    final class Pass: Sendable {
        enum Chunk: Sendable {
            case data(Int, [UInt8])
            case end(Int)
        }

        let gate = LoadModeGate()
        let existing = ExistingRowsChannel()
        /// Whether the validator asks the coordinator for the mode (else: staging).
        let asks: Bool
        /// The rows of new partitions, when the load makes them.
        let spool: AttachSpool?
        let chunks = BoundedQueue<Chunk>(capacity: 4)
        let batches = BoundedQueue<RecordBatch>(capacity: 3)
        /// Each writer's COPY data, made new for every pass.
        let inputs: [BoundedQueue<CopyChunk>]
        /// The first failure of any stage.
        let fatal = Mutex<PassFailure?>(nil)
        /// The validator's findings, handed over at its end.
        let outcome = BoundedQueue<StreamOutcome>(capacity: 1)

        init(writers: Int, asks: Bool, spool: AttachSpool?) {
            self.asks = asks
            self.spool = spool
            inputs = (0..<writers).map { _ in BoundedQueue(capacity: 3) }
        }

        /// Keeps the first failure.
        func record(_ failure: PassFailure) {
            fatal.withLock { if $0 == nil { $0 = failure } }
        }

        /// Records `failure` and stops every stage.
        @Sendable func stop(_ failure: PassFailure) {
            record(failure)
            chunks.cancel()
            batches.cancel()
            gate.cancel()
            existing.end()
            inputs.forEach { $0.cancel() }
        }
    }
}

/// What the coordinator's thread answers during a pass: the load mode, from the first
/// rows' dates, and in ``LoadMode/compare`` the rows of `scores` the validator compares
/// with. ``LoadedDatesProbe`` is the one over the coordinator's connection.
protocol LoadModeProbe: AnyObject {
    /// - Parameter allowDirect: False after a direct COPY met an existing key: compare.
    func mode(for dates: Set<Int64>, allowDirect: Bool) throws -> LoadMode
    func existingRows(_ request: ExistingRowsChannel.Request) throws -> [RowFingerprint]?
}
