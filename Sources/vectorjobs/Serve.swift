import ArgumentParser
import Dispatch
import Foundation
import JSON
import JSONRPC
import MCP
import Tools

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve MCP (JSON-RPC 2.0, one message per line) on stdin/stdout. The default command.")

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("max-line-bytes"), help: "The largest message accepted, in bytes (default 64 MiB).")
    var maxLineBytes: Int = StdioConnection.defaultMaxLineBytes

    @Option(name: .customLong("page-size"), help: .hidden)
    var pageSize: Int = 100

    @Flag(name: .customLong("enable-test-methods"), help: .hidden)
    var enableTestMethods = false

    func run() async throws {
        // From here on nothing but protocol messages reaches the real stdout.
        let protocolFD = StdioConnection.guardStandardOutput()
        let runtime = try common.makeRuntime()
        let connection = StdioConnection(inputFD: 0, outputFD: protocolFD, maxLineBytes: maxLineBytes)
        var extra: [String: MCPServer.ExtraMethod] = [:]
        if enableTestMethods {
            // Echoes its params (or a reply of `bytes` bytes): exercises framing of large messages in tests and benchmarks.
            extra["vectorjobs/echo"] = { params in
                if let size = params?["bytes"]?.intValue { return ["data": .string(String(repeating: "x", count: Int(size)))] }
                return params ?? .null
            }
        }
        let server = MCPServer(
            info: MCPServer.Info(name: "vectorjobs", version: Runtime.version, instructions: Self.instructions),
            catalog: Catalog(environment: runtime.environment), sink: connection, pageSize: pageSize, extraMethods: extra,
            tasks: JobTaskBackend(environment: runtime.environment), resources: JobResources(environment: runtime.environment))

        signal(SIGTERM, SIG_IGN)
        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        term.setEventHandler { Foundation.exit(0) } // every write is complete when it returns: nothing is left to flush
        term.resume()

        runtime.startBackgroundWork()
        connection.start(onMessage: { server.receive($0) }, onEnd: {
            Task {
                server.closeSubscriptions()
                await server.waitUntilIdle()
                Foundation.exit(0)
            }
        })
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    static let instructions = """
        vectorjobs uploads vectors to AnalyticDB for PostgreSQL. Long uploads return a job handle (job_…): follow it \
        with job_wait (bounded, with progress) or job_get, stop it with job_cancel, find it later with jobs_list. \
        Check a local file first with validate_vectors_file. profiles_list shows the configured profiles.
        """
}
