import ArgumentParser
import Foundation
import Logging
import GreyoakPostgres
import GreyoakMigrations
import GreyoakIngest

/// Options of the commands that change the database.
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Print the SQL instead of running it; needs no database. Takes [FROM:]TO.") var sql = false
    @Option(name: .customLong("lock-timeout"), help: "Seconds to wait for the schema lock.") var lockTimeout: Double = 60
    @Option(name: .customLong("ddl-lock-timeout"),
            help: "How long each migration statement may wait for a table lock (lock_timeout), e.g. 2s, 500ms; a file's -- Lock-Timeout: line overrides it.",
            transform: { text in
                guard let value = LockTimeout(parsing: text) else {
                    throw GreyoakError(.usage, "--ddl-lock-timeout: not a positive duration such as 2s or 500ms: \(text)")
                }
                return value
            })
    var ddlLockTimeout = LockTimeout.ddlDefault
    @Option(name: .customLong("ddl-retries"), help: "How often a migration that timed out on a lock is rolled back and tried again.")
    var ddlRetries = 10

    /// `[FROM:]TO` of an offline run: FROM (default base) and TO resolved against it.
    func offlineRange(_ text: String, graph: RevisionGraph, defaultTarget: String) throws -> (start: [String], targets: [String]) {
        let (from, to) = splitRange(text) ?? (nil, text)
        let start = try from.map { try graph.resolve($0, current: []) } ?? []
        return (start, try graph.resolve(to ?? defaultTarget, current: start))
    }

    func migrator(_ options: GlobalOptions, graph: RevisionGraph, logger: Logger, backup: BackupOptions? = nil) throws -> Migrator {
        // Before connecting: a recipient age refuses stops the command before anything changes.
        let recipients = try backup?.ageRecipients()
        guard ddlRetries >= 0 else { throw GreyoakError(.usage, "--ddl-retries must be 0 or more, not \(ddlRetries)") }
        let policy = LockRetryPolicy(timeout: ddlLockTimeout, retries: ddlRetries)
        let connection = try Connection(Migrator.settings(options.settings, policy: policy), logger: logger)
        let migrator = Migrator(graph: graph, connection: connection, housekeeping: IngestHousekeeping(), logger: logger, lockTimeout: lockTimeout, lockPolicy: policy)
        migrator.backupDirectory = backup?.backup
        migrator.backupRecipients = recipients
        return migrator
    }
}

/// `--backup DIR` and its encryption, for the commands that migrate.
struct BackupOptions: ParsableArguments {
    @Option(help: "Dump the database (pg_dump --format=custom) into this directory before migrating.") var backup: String?
    @Option(name: .customLong("backup-recipient"),
            help: "Encrypt the backup with age to this public key (age1... or ssh-ed25519 ...); repeatable. Nothing unencrypted is written.")
    var recipients: [String] = []
    @Option(name: .customLong("backup-recipients-file"), help: "Encrypt the backup with age to the public keys in this file (one a line); repeatable.")
    var recipientsFiles: [String] = []

    func validate() throws {
        if backup == nil, !recipients.isEmpty || !recipientsFiles.isEmpty {
            throw ValidationError("--backup-recipient and --backup-recipients-file need --backup DIR")
        }
    }

    /// The recipients, checked by age; nil without encryption.
    func ageRecipients() throws -> AgeRecipients? {
        let recipients = AgeRecipients(keys: self.recipients, files: recipientsFiles)
        guard backup != nil, !recipients.isEmpty else { return nil }
        try recipients.validate()
        return recipients
    }
}

extension DBCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upgrade to a later revision (head, heads, an id, +N).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var backup: BackupOptions
        @OptionGroup var metrics: MetricsOptions
        @Argument(help: "Target revision.") var revision: String

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            if change.sql {
                let (start, targets) = try change.offlineRange(revision, graph: graph, defaultTarget: "heads")
                let steps = try graph.upgradePlan(from: start, to: targets)
                print(OfflineScript.render(steps, createVersionTable: start.isEmpty), terminator: "")
                return
            }
            let began = Date()
            let destination = metrics.destination(job: "greyoak_db_upgrade")
            do {
                let migrator = try change.migrator(options, graph: graph, logger: logger, backup: backup)
                let steps = try migrator.upgrade(to: revision)
                let heads = destination.isEmpty ? [] : try migrator.currentHeads()
                destination.publishUpgrade(exitStatus: 0, began: began, revisions: heads, applied: steps.count, logger: logger)
            } catch {
                destination.publishUpgrade(exitStatus: exitStatus(of: error), began: began, revisions: nil, applied: nil, logger: logger)
                throw error
            }
        }
    }

    struct Downgrade: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revert to an earlier revision (base, an id, -1).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var backup: BackupOptions
        // `.allUnrecognized` lets Alembic's relative form `-1` through as an argument.
        @Argument(parsing: .allUnrecognized, help: "Target revision (base, an id, -1).") var target: [String] = []

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            guard target.count == 1, let revision = target.first else {
                throw GreyoakError(.usage, "downgrade takes exactly one target revision, got \(target.count)")
            }
            if change.sql {
                guard let (from, _) = splitRange(revision), from != nil else {
                    throw GreyoakError(.usage, "downgrade with --sql requires <fromrev>:<torev>")
                }
                let (start, targets) = try change.offlineRange(revision, graph: graph, defaultTarget: "base")
                print(OfflineScript.render(try graph.downgradePlan(from: start, to: targets), createVersionTable: false), terminator: "")
                return
            }
            try change.migrator(options, graph: graph, logger: logger, backup: backup).downgrade(to: revision)
        }
    }

    struct Stamp: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the version table to a revision without running migrations.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @Flag(help: "Delete every version row first, even unknown ones.") var purge = false
        @Argument(help: "Target revision.") var revision: String

        func run() throws {
            let logger = options.logger("greyoak.migration")
            let graph = try options.graph()
            if change.sql {
                let (start, targets) = try change.offlineRange(revision, graph: graph, defaultTarget: "heads")
                let changes = graph.stampChanges(from: start, to: targets, purge: purge)
                print(OfflineScript.render(stamp: changes, createVersionTable: start.isEmpty), terminator: "")
                return
            }
            try change.migrator(options, graph: graph, logger: logger).stamp(revision, purge: purge)
        }
    }
}
