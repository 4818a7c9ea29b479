import Foundation
import Testing

/// A PgBouncer of one test's own (Debian's `pgbouncer`, installed by scripts/setup), on a free
/// port in front of the test server (`GREYOAK_TEST_DATABASE_URL`), in transaction pooling mode
/// unless told otherwise. Started by `init` as a child of the test (not daemonised, so that
/// the test reaps it); ``stop()`` kills it.
///
/// It authenticates clients with SCRAM against an `auth_file` holding the test role's
/// password (from the URL, else from `PGPASSFILE`, as libpq finds it), and logs in to the
/// server with the same. PgBouncer refuses to run as root, so as root it runs as the
/// `postgres` OS user (through `setpriv`, which execs it: the child is PgBouncer itself).
package final class Pooler: @unchecked Sendable {  // immutable after init
    package let directory: String
    package let port: UInt16
    private let user: String
    private let process = Process()

    /// - Parameters:
    ///   - mode: `pool_mode`: transaction, statement or session.
    ///   - poolSize: Server connections per database and user (`default_pool_size`); small,
    ///     so that clients share them as in production.
    ///   - ignoreOptions: Whether PgBouncer ignores the `options` startup parameter (as
    ///     operators configure it) instead of refusing the connection.
    package init(mode: String = "transaction", poolSize: Int = 6, ignoreOptions: Bool = false) async throws {
        let admin = try TestDatabase.requireAdminURL()
        let url = try #require(URLComponents(string: admin), "not a URL: \(admin)")
        user = try #require(url.user, "GREYOAK_TEST_DATABASE_URL names no user")
        let host = url.host ?? "127.0.0.1", serverPort = url.port ?? 5432
        let password = try #require(url.password ?? Self.pgpassPassword(host: host, port: serverPort, user: user),
                                    "no password for \(user) in GREYOAK_TEST_DATABASE_URL or PGPASSFILE")
        directory = "/tmp/greyoak-pgbouncer-\(UUID().uuidString.prefix(8))"
        port = try PrivateCluster.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let quoted = { (text: String) in "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        try write("\(quoted(user)) \(quoted(password))\n", to: "users.txt")
        try write("""
            [databases]
            * = host=\(host) port=\(serverPort)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = scram-sha-256
            auth_file = \(directory)/users.txt
            pool_mode = \(mode)
            default_pool_size = \(poolSize)
            max_client_conn = 200
            logfile = \(directory)/pgbouncer.log
            \(ignoreOptions ? "ignore_startup_parameters = options" : "")

            """, to: "pgbouncer.ini")
        try await PrivateCluster.shell(["chmod", "-R", "go-rwx", directory])
        if getuid() == 0 { try await PrivateCluster.shell(["chown", "-R", "postgres:postgres", directory]) }
        let command = ["/usr/sbin/pgbouncer", directory + "/pgbouncer.ini"]
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = getuid() == 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] + command : command
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            try await waitUntilListening()
        } catch {
            stop()
            throw error
        }
    }

    /// The URL of `database` through the pooler (no password: libpq reads PGPASSFILE, whose
    /// test lines match any port).
    package func url(_ database: String) -> String {
        "postgresql://\(user)@127.0.0.1:\(port)/\(database)"
    }

    /// The URL of a test database through the pooler.
    package func url(_ database: TestDatabase) -> String { url(database.name) }

    /// Stops PgBouncer and removes its directory. SIGKILL: the test's threads block the
    /// other signals, and a child inherits that mask.
    package func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// PgBouncer's log, for a failing test's message.
    package var log: String { (try? String(contentsOfFile: directory + "/pgbouncer.log", encoding: .utf8)) ?? "" }

    private func write(_ text: String, to name: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8)
    }

    private func waitUntilListening() async throws {
        for _ in 0..<250 where process.isRunning {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("pgbouncer did not start listening on \(port) (running: \(process.isRunning)):\n\(log)")
        throw CancellationError()
    }

    /// The password libpq would take from PGPASSFILE for this host, port and user.
    private static func pgpassPassword(host: String, port: Int, user: String) -> String? {
        guard let path = ProcessInfo.processInfo.environment["PGPASSFILE"],
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            // Fields split at unescaped colons; `\:` and `\\` are escapes.
            var fields: [String] = [], field = "", escaped = false
            for character in line {
                if escaped { field.append(character); escaped = false } else if character == "\\" { escaped = true }
                else if character == ":" { fields.append(field); field = "" } else { field.append(character) }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let matches = zip(fields.prefix(4), [host, String(port), "*", user]).allSatisfy { $0 == "*" || $0 == $1 || $1 == "*" }
            if matches { return fields[4] }
        }
        return nil
    }
}
