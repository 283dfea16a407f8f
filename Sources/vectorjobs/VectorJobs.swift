import ArgumentParser
import Foundation
import Logging
import MCP

@main
enum Main {
    /// `serve` is what clients spawn, so it starts fast: parsed as a root command of its own, which spares
    /// building the parser for every other subcommand (most of the start-up time otherwise).
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let isServe = arguments.first == "serve" || arguments.first.map { $0.hasPrefix("--") && !["--help", "--version"].contains($0) } ?? true
        guard isServe else { await VectorJobs.main(); return }
        if arguments.first == "serve" { arguments.removeFirst() }
        if let serve = Serve.quickParse(arguments) {
            do { try await serve.run() } catch { Serve.exit(withError: error) }
            return
        }
        do {
            var command = try Serve.parseAsRoot(arguments)
            if let serve = command as? Serve { try await serve.run() } else { try command.run() }
        } catch {
            Serve.exit(withError: error)
        }
    }
}

struct VectorJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorjobs",
        abstract: "An MCP tool server for vector uploads to AnalyticDB for PostgreSQL, with job handles.",
        version: Runtime.version,
        subcommands: [Serve.self, Call.self, ToolsCommand.self, JobsCommand.self, ProfilesCommand.self, Validate.self, Emulate.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that touches profiles and jobs shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "The profiles file (default: $VECTORJOBS_PROFILES, else ~/.config/vectorjobs/profiles.yaml, else the embedded profiles).")
    var profiles: String?

    @Option(name: .customLong("state-dir"), help: "Where jobs and embedded data live (default: $VECTORJOBS_STATE_DIR, else ~/.local/state/vectorjobs).")
    var stateDir: String?

    @Option(name: .customLong("emulator-pace"), help: "Rows per second the embedded emulator imports (default: as fast as it can; env VECTORJOBS_EMULATOR_PACE).")
    var emulatorPace: Double?

    @Option(name: .customLong("log-level"), help: "Least severe level logged to stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["VECTORJOBS_LOG_LEVEL"] ?? "notice"

    var runtimeOptions: RuntimeOptions { RuntimeOptions(profilesPath: profiles, stateDirectory: stateDir, emulatorPace: emulatorPace) }

    func bootstrapLogging() {
        Logging.bootstrapOnce()
        LogRouter.shared.stderrLevel = Logger.Level(rawValue: logLevel) ?? .notice
    }

    /// The runtime, or an exit with the configuration error on stderr.
    func makeRuntime() throws -> Runtime {
        bootstrapLogging()
        do {
            return try Runtime(options: runtimeOptions)
        } catch {
            FileHandle.standardError.write(Data("vectorjobs: \(LogRouter.shared.redact(String(describing: error)))\n".utf8))
            throw ExitCode(2)
        }
    }
}

enum Logging {
    nonisolated(unsafe) private static var done = false
    static func bootstrapOnce() {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { RoutedLogHandler(label: $0) }
    }
}
