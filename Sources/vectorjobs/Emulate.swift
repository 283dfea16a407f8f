import ArgumentParser
import Emulator
import Foundation
import HTTP
import JSON
import Logging

struct Emulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the AnalyticDB emulator (with OpenPlatform and OSS) over HTTP on 127.0.0.1.",
        discussion: """
            Prints {"port": N, "url": …} on stdout once listening. Clients may also use it as an HTTP proxy \
            (http_proxy=http://127.0.0.1:N) with the real endpoint names. GET /_emulator/state shows its jobs, \
            overlapping uploads and request counts.
            """)

    @Option(help: "The port (0 picks a free one).")
    var port: UInt16 = 8799

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("data-dir"), help: "Where the emulator keeps its SQLite store and objects (default: a new temporary directory).")
    var dataDir: String?

    @Option(help: "Rows per second that import jobs write (default: as fast as it can).")
    var pace: Double?

    @Option(name: .customLong("access-key-id"), help: "The access key id the emulator accepts.")
    var accessKeyID: String = ProcessInfo.processInfo.environment["VECTORJOBS_EMULATOR_ACCESS_KEY_ID"] ?? "testid"

    @Option(name: .customLong("access-key-secret"), help: "Its secret (default: $VECTORJOBS_EMULATOR_ACCESS_KEY_SECRET, else testsecret).")
    var accessKeySecret: String = ProcessInfo.processInfo.environment["VECTORJOBS_EMULATOR_ACCESS_KEY_SECRET"] ?? "testsecret"

    @Option(name: .customLong("security-token"), help: "When set, requests must also carry this STS token.")
    var securityToken: String?

    @Option(name: .customLong("viking-collections"), help: "A JSON file {\"collections\": [...]} declaring the VikingDB collections (default: one named demo).")
    var vikingCollections: String?

    @Option(name: .customLong("api-key"), help: "A VikingDB API key to accept (repeatable).")
    var apiKeys: [String] = []

    @Option(name: .customLong("viking-rows-per-second"), help: "VikingDB write rows per second per collection before 429 RequestLimitExceeded.")
    var vikingRowsPerSecond: Double?

    @Option(name: .customLong("log-level"), help: "Least severe level logged to stderr.")
    var logLevel: String = "notice"

    func run() async throws {
        Logging.bootstrapOnce()
        let directory = dataDir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("vectorjobs-emulator-\(getpid())")
        let curl = CurlClient()
        let emulator = try Emulator(configuration: Emulator.Configuration(
            dataDirectory: directory, accounts: [accessKeyID: Emulator.Account(secret: accessKeySecret, securityToken: securityToken)],
            pace: pace,
            fetch: { url, destination in
                var request = HTTPRequest(method: "GET", url: url, timeout: .seconds(3600))
                request.responseBodyPath = destination
                let response = try curl.perform(request)
                guard response.status == 200 else { throw HTTPError.aborted("HTTP \(response.status) from \(url)") }
            },
            vikingCollections: try vikingCollections.map(VikingCollection.load) ?? VikingCollection.defaults,
            apiKeys: apiKeys, vikingRowsPerSecond: vikingRowsPerSecond))
        let server = HTTPServer(host: host, port: port, spoolDirectory: directory) { emulator.handle($0) }
        let bound = try server.start()
        emulator.startTicker()
        let ready: JSON = ["port": JSON(Int(bound)), "url": .string("http://\(host):\(bound)"), "data_dir": .string(directory)]
        print(ready.serialized())
        fflush(nil)
        FileHandle.standardError.write(Data("vectorjobs emulate: listening on http://\(host):\(bound), data in \(directory)\n".utf8))
        signal(SIGTERM, SIG_IGN)
        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        term.setEventHandler { server.stop(); _exit(0) }
        term.resume()
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }
}
