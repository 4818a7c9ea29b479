import Foundation
import Testing
import GreyoakPostgres

/// A PostgreSQL cluster of one test's own, in a temporary directory on a free port: for the
/// faults that stop, crash or restart the server, and for server settings (TLS, prepared
/// transactions) the shared test server must not change. Started by the test; removed by
/// ``remove()``, which stops it first.
///
/// The server tools refuse to run as root; as root they run as the `postgres` OS user, as
/// in scripts/pg. Authentication is `trust` on 127.0.0.1 (or certificate-checked TLS only).
package final class PrivateCluster: @unchecked Sendable {
    // Immutable after init, apart from the server process, which pg_ctl owns.
    let directory: String
    let port: UInt16
    let superuser = "greyoak"
    private let bin: String

    /// Makes a cluster (initdb), not started.
    ///
    /// - Parameters:
    ///   - settings: Lines for postgresql.conf (such as `max_prepared_transactions = 10`).
    ///   - hba: pg_hba.conf's rules; by default trust over TCP on 127.0.0.1.
    package init(settings: [String] = [], hba: String = "host all all 127.0.0.1/32 trust") async throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = try #require(versions.compactMap(Int.init).max(), "no PostgreSQL server in /usr/lib/postgresql: run scripts/setup")
        bin = "/usr/lib/postgresql/\(newest)/bin"
        directory = "/tmp/greyoak-cluster-\(UUID().uuidString.prefix(8))"
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await Self.shell(["chmod", "700", directory])
        if getuid() == 0 { try await Self.shell(["chown", "postgres:postgres", directory]) }
        try await server(["\(bin)/initdb", "-D", data, "-U", superuser, "--auth=trust", "--no-sync", "--no-locale", "-E", "UTF8"])
        let conf = ([
            "listen_addresses = '127.0.0.1'", "port = \(port)", "unix_socket_directories = '\(directory)'",
            "shared_buffers = 32MB", "fsync = off", "max_connections = 40", "timezone = 'UTC'",
        ] + settings).joined(separator: "\n") + "\n"
        try append(conf, to: "postgresql.conf")
        try await write("local all all trust\n\(hba)\n", to: "pg_hba.conf")
    }

    var data: String { directory + "/data" }

    /// The URL of `database` as the superuser, with `query` (`sslmode=...`) if given.
    package func url(_ database: String = "postgres", query: String? = nil) -> String {
        "postgresql://\(superuser)@127.0.0.1:\(port)/\(database)" + (query.map { "?" + $0 } ?? "")
    }

    package func start() async throws {
        try await server(["\(bin)/pg_ctl", "start", "-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "-s"])
    }

    /// Stops the server: `immediate` is a crash as far as the data is concerned.
    package func stop(_ mode: String = "fast") async throws {
        try await server(["\(bin)/pg_ctl", "stop", "-D", data, "-m", mode, "-w", "-t", "60", "-s"])
    }

    package func remove() {
        // Not through stop(): a cluster that is not running is no test failure here.
        // Blocking, but briefly: an immediate stop takes a moment, and defer cannot await.
        if FileManager.default.fileExists(atPath: data + "/postmaster.pid") {
            _ = try? Self.shellBlocking(command(["\(bin)/pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-s"]), in: "/")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a database at head, as the superuser.
    package func createDatabase(_ name: String) async throws -> String {
        let admin = try Connection(ConnectionSettings(url: url(), environment: [:]), logger: quietLogger)
        try admin.execute("CREATE DATABASE \(name)")
        admin.close()
        let result = try await CLI.run(["db", "upgrade", "head", "-q"], databaseURL: url(name), migrations: IngestRepo.migrations)
        try #require(result.status == 0, "\(result)")
        return url(name)
    }

    /// Writes a file into the data directory (server.crt and the like), owned by the server.
    package func write(_ text: String, to name: String, mode: String = "600") async throws {
        let path = data + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try await Self.shell(["chmod", mode, path])
        if getuid() == 0 { try await Self.shell(["chown", "postgres:postgres", path]) }
    }

    private func append(_ text: String, to name: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/" + name))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    private func command(_ command: [String]) -> [String] {
        getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command
    }

    private func server(_ command: [String]) async throws {
        try await Self.shell(self.command(command), in: "/")
    }

    /// Runs a command to its end, its output into a file (not a pipe: the server pg_ctl
    /// starts inherits it and keeps it open). posix_spawn and waitpid rather than Foundation's
    /// Process, whose wait did not return for a child whose grandchild daemonised.
    /// Runs a command off Swift concurrency's cooperative threads (there are as many as
    /// cores, and a blocked one stalls every other test).
    @discardableResult
    package static func shell(_ command: [String], in directory: String? = nil) async throws -> String {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<String, any Error>, Never>) in
            DispatchQueue.global().async { continuation.resume(returning: Result { try shellBlocking(command, in: directory) }) }
        }
        return try result.get()
    }

    @discardableResult
    static func shellBlocking(_ command: [String], in directory: String? = nil) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-shell-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["/usr/bin/env", "sh", "-c", "cd \"$0\" && exec \"$@\"", directory ?? "."] + command).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else { throw ShellError(description: "cannot run \(command.joined(separator: " ")): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0 && (status >> 8) & 0xff == 0
        guard exited else { throw ShellError(description: "\(command.joined(separator: " ")) failed:\n\(text)") }
        return text
    }

    struct ShellError: Error, CustomStringConvertible {
        let description: String
    }

    /// A port nothing listens on now (the kernel's pick of an ephemeral port).
    package static func freePort() throws -> UInt16 {
        let proxy = try FaultProxy(upstreamPort: 1, fault: nil)
        defer { proxy.stop() }
        return proxy.port
    }
}
