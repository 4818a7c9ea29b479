import Foundation
import Testing
import GreyoakTestSupport

/// `sslmode=verify-full` with `sslrootcert` for every connection of a load, the coordinator's
/// and each writer's, against a private cluster whose certificate a CA made by the test signed.
@Suite("TLS: verify-full on every connection")
struct IngestTLSTests {
    /// A CA and a server certificate for 127.0.0.1, made with openssl into `directory`.
    static func makeCertificates(in directory: String) async throws {
        func openssl(_ arguments: [String]) async throws { try await PrivateCluster.shell(["openssl"] + arguments, in: directory) }
        for name in ["ca", "other-ca"] {
            try await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).crt",
                         "-days", "2", "-subj", "/CN=greyoak test \(name)"])
        }
        try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.crt", "-days", "2", "-extfile", "san.ext"])
    }

    @Test("a two-writer load and --each-file over verify-full; a certificate from another CA is refused")
    func verifyFull() async throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        try await Self.makeCertificates(in: scratch.path)
        // TLS only: pg_hba.conf has no rule for a connection without it.
        let cluster = try await PrivateCluster(settings: ["ssl = on", "max_prepared_transactions = 10"],
                                         hba: "hostssl all all 127.0.0.1/32 trust")
        defer { cluster.remove() }
        try await cluster.write(try String(contentsOfFile: scratch.file("server.crt"), encoding: .utf8), to: "server.crt")
        try await cluster.write(try String(contentsOfFile: scratch.file("server.key"), encoding: .utf8), to: "server.key")
        try await cluster.start()
        _ = try await cluster.createDatabase("tls")
        let url = cluster.url("tls", query: "sslmode=verify-full&sslrootcert=\(scratch.file("ca.crt"))")
        let database = TestDatabase(name: "tls", url: url, adminURL: cluster.url())

        let file = scratch.file("scores.csv")
        try GenScores.run(["--tickers", "200", "--days", "2", "--out", file])
        let result = try await IngestCLI.ingest(database, [file, "--writers", "2", "--json"])
        #expect(result.status == 0, "\(result)")
        #expect(try result.report().writers == 2, "\(result)")
        #expect(try ScoresTable.count(database) == 800)
        let eachFile = try await IngestCLI.ingest(database, [file, "--each-file"])
        #expect(eachFile.status == 0, "\(eachFile)")
        let verify = try await CLI.run(["db", "verify"], databaseURL: url, migrations: IngestRepo.migrations)
        #expect(verify.status == 0, "\(verify)")

        let wrongCA = cluster.url("tls", query: "sslmode=verify-full&sslrootcert=\(scratch.file("other-ca.crt"))")
        let refused = try await IngestCLI.ingest(database, [file, "--connect-retry", "0"], databaseURL: wrongCA)
        #expect(refused.status == 7, "\(refused)")
        #expect(refused.stderr.contains("certificate verify failed"), "\(refused)")
    }
}
