import Foundation
import GreyoakPostgres

/// What `greyoak db check` found: printed as a line, or with `--json` as one object.
public struct HealthReport: Sendable, Codable, Equatable {
    /// `ok`, or the name of the first problem found (the ``GreyoakError/Code`` name).
    public var status = "ok"
    /// The process exit status: 0 when healthy, else the problem's code (README, Exit statuses).
    public var exitStatus: Int32 = 0
    public var message = "reachable, at head, no migration running, no interrupted load"
    public var reachable = false
    /// The database's revisions (`alembic_version`).
    public var current: [String] = []
    /// The migration files' heads.
    public var heads: [String]
    public var migrationRunning = false
    public var interruptedLoads = 0

    public init(heads: [String]) { self.heads = heads }

    enum CodingKeys: String, CodingKey {
        case status, exitStatus = "exit_status", message, reachable, current, heads
        case migrationRunning = "migration_running", interruptedLoads = "interrupted_loads"
    }

    public var isHealthy: Bool { exitStatus == 0 }

    mutating func fail(_ code: GreyoakError.Code, _ message: String) {
        status = code.name
        exitStatus = code.exitStatus
        self.message = message
    }

    func failed(_ code: GreyoakError.Code, _ message: String) -> HealthReport {
        var copy = self
        copy.fail(code, message)
        return copy
    }

    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// `ok: ...` or `behind head: ...`, one line.
    public var text: String { "\(status): \(message)" }
}
