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
        common.bootstrapLogging()
        // A profiles file is read now, so a broken one stops the server at once; the stores open in the background.
        do { try Runtime.checkProfiles(common.runtimeOptions) } catch {
            FileHandle.standardError.write(Data("vectorjobs: \(LogRouter.shared.redact(String(describing: error)))\n".utf8))
            throw ExitCode(2)
        }
        let runtime = LazyRuntime(common.runtimeOptions)
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
            catalog: LazyCatalog(runtime: runtime), sink: connection, pageSize: pageSize, extraMethods: extra,
            tasks: LazyTasks(runtime: runtime), resources: LazyResources(runtime: runtime))

        signal(SIGTERM, SIG_IGN)
        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        // Every protocol write is complete when it returns and SQLite commits are durable, so leave with _exit: it skips
        // static destructors, which must not run while other threads (the scheduler, a store still opening) work.
        term.setEventHandler { _exit(0) }
        term.resume()

        connection.start(onMessage: { server.receive($0) }, onEnd: {
            Task {
                server.closeSubscriptions()
                await server.waitUntilIdle()
                _exit(0)
            }
        })
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Reads serve's own flags without building the argument parser (it costs milliseconds at every spawn).
    /// Anything unusual (help, unknown flags, bad values) returns nil, and ArgumentParser takes over to explain.
    static func quickParse(_ arguments: [String]) -> Serve? {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            guard argument.hasPrefix("--") else { return nil }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            switch name {
            case "enable-test-methods":
                guard value == nil else { return nil }
                flags.insert(name)
            case "profiles", "state-dir", "emulator-pace", "log-level", "max-line-bytes", "page-size":
                if value == nil {
                    guard i + 1 < arguments.count else { return nil }
                    i += 1
                    value = arguments[i]
                }
                values[name] = value
            default:
                return nil
            }
            i += 1
        }
        // Every property is assigned: ArgumentParser's wrappers must not be read unparsed.
        var common = CommonOptions()
        common.profiles = values["profiles"]
        common.stateDir = values["state-dir"]
        common.emulatorPace = nil
        if let pace = values["emulator-pace"] { guard let v = Double(pace) else { return nil }; common.emulatorPace = v }
        common.logLevel = values["log-level"] ?? ProcessInfo.processInfo.environment["VECTORJOBS_LOG_LEVEL"] ?? "notice"
        var serve = Serve()
        serve.common = common
        serve.maxLineBytes = StdioConnection.defaultMaxLineBytes
        if let max = values["max-line-bytes"] { guard let v = Int(max), v > 0 else { return nil }; serve.maxLineBytes = v }
        serve.pageSize = 100
        if let size = values["page-size"] { guard let v = Int(size), v > 0 else { return nil }; serve.pageSize = v }
        serve.enableTestMethods = flags.contains("enable-test-methods")
        return serve
    }

    static let instructions = """
        vectorjobs uploads vectors to AnalyticDB for PostgreSQL. Long uploads return a job handle (job_…): follow it \
        with job_wait (bounded, with progress) or job_get, stop it with job_cancel, find it later with jobs_list. \
        Check a local file first with validate_vectors_file. profiles_list shows the configured profiles.
        """
}
