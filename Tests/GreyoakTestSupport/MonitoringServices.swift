import Foundation
import FoundationNetworking
import Testing

/// The real monitoring components, Debian's packages, started for one test on free loopback
/// ports and stopped by ``stop()``: node_exporter with only its textfile collector, reading
/// ``textfileDirectory``, and a Pushgateway that keeps nothing on disk.
///
/// Scraped over HTTP with URLSession (the tests may link libcurl; greyoak itself does not).
package final class MonitoringServices: @unchecked Sendable {
    // Immutable after init; the processes are only signalled and waited for.
    package let directory: String
    package let nodeExporterPort: UInt16
    package let pushgatewayPort: UInt16
    private let processes: [Process]

    package var textfileDirectory: String { directory + "/textfile" }
    package var pushgatewayURL: String { "http://127.0.0.1:\(pushgatewayPort)" }

    package init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("greyoak-monitoring-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/textfile", withIntermediateDirectories: true)
        nodeExporterPort = try PrivateCluster.freePort()
        pushgatewayPort = try PrivateCluster.freePort()
        let commands = [
            ["/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:\(nodeExporterPort)",
             "--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory=\(directory)/textfile"],
            ["/usr/bin/prometheus-pushgateway", "--web.listen-address=127.0.0.1:\(pushgatewayPort)", "--persistence.file="],
        ]
        var processes: [Process] = []
        for command in commands {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            let log = directory + "/" + URL(fileURLWithPath: command[0]).lastPathComponent + ".log"
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = process.standardOutput
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                for started in processes { started.terminate() }
                throw error
            }
            processes.append(process)
        }
        self.processes = processes
        do {
            for (process, port) in zip(processes, [nodeExporterPort, pushgatewayPort]) { try await waitUntilServing(process, port) }
        } catch {
            stop()
            throw error
        }
    }

    /// Stops both services and removes their directory.
    package func stop() {
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// node_exporter's samples, as `name{labels}` (labels sorted, as exposed) → value.
    package func scrapeNodeExporter() async throws -> Scrape { try await Self.scrape(nodeExporterPort) }
    package func scrapePushgateway() async throws -> Scrape { try await Self.scrape(pushgatewayPort) }

    private static func scrape(_ port: UInt16, timeout: Double = 30) async throws -> Scrape {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        request.timeoutInterval = timeout
        let (data, response) = try await URLSession.shared.data(for: request)
        try #require((response as? HTTPURLResponse)?.statusCode == 200, "scrape of port \(port): \(response)")
        return Scrape(text: String(decoding: data, as: UTF8.self))
    }

    /// Up to 30 s (a loaded machine starts a Go binary slowly) for a service to answer its
    /// /metrics; a service that exited fails the test at once, with its log.
    private func waitUntilServing(_ process: Process, _ port: UInt16) async throws {
        let deadline = Date().addingTimeInterval(30)
        let name = process.executableURL?.lastPathComponent ?? "?"
        while true {
            if (try? await Self.scrape(port, timeout: 2)) != nil { return }
            let log = (try? String(contentsOfFile: directory + "/" + name + ".log", encoding: .utf8)) ?? ""
            try #require(process.isRunning, "\(name) exited (status \(process.terminationStatus)):\n\(log)")
            try #require(Date() < deadline, "\(name) serves no /metrics on 127.0.0.1:\(port) after 30 s:\n\(log)")
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }
}

/// One scrape's samples.
package struct Scrape: CustomStringConvertible {
    package let text: String

    package var description: String { text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n") }

    /// The value of the one sample named `name` whose labels include `labels`, nil if none.
    package func value(_ name: String, _ labels: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) -> Double? {
        var found: [Double] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let key = line[..<space]
            let sampleName = key.prefix { $0 != "{" }
            guard sampleName == name else { continue }
            let labelText = key.dropFirst(sampleName.count)
            guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if let value = Double(line[line.index(after: space)...]) { found.append(value) }
        }
        #expect(found.count <= 1, "\(found.count) samples of \(name) \(labels)", sourceLocation: sourceLocation)
        return found.first
    }
}
