import ArgumentParser
import Foundation
import JSON
import JSONRPC
import MCP
import Synchronization
import Tools

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one tool in this process and print its result as JSON.",
        discussion: "Example: vectorjobs call adbpg_upsert_collection_data_async --arguments '{\"collection\":\"docs\",\"file_path\":\"vectors.jsonl\"}' --wait")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The tool's name (see `vectorjobs tools`).")
    var tool: String

    @Option(help: "The tool's arguments as a JSON object.")
    var arguments: String = "{}"

    @Flag(help: "When the result is a job, follow it to its end (a progress bar on a terminal).")
    var wait = false

    func run() async throws {
        let runtime = try common.makeRuntime()
        runtime.startBackgroundWork()
        let parsed: JSON
        do { parsed = try JSON.parse(arguments) } catch {
            throw ValidationError("--arguments is not valid JSON: \(error)")
        }
        let bar = ProgressBar()
        let sink = ProgressSink(bar: bar)
        let server = MCPServer(info: MCPServer.Info(name: "vectorjobs", version: Runtime.version),
                               catalog: Catalog(environment: runtime.environment), sink: sink)
        var result = try await invoke(server, tool, parsed)
        if wait, let jobID = result["job"]?["job_id"]?.stringValue {
            while true {
                let waited = try await invoke(server, "job_wait", ["job_id": .string(jobID), "timeout_seconds": 30])
                result["job"] = waited["job"]
                if waited["timed_out"] != .bool(true) { break }
            }
            bar.finish()
        }
        print(result.prettyPrinted())
        let failed = wait && result["job"]?["state"]?.stringValue.map { $0 != "succeeded" } == true
        // Background work (scheduler, emulator ticker) is still running: leave without static destructors.
        fflush(nil)
        _exit(failed ? 1 : 0)
    }

    private func invoke(_ server: MCPServer, _ name: String, _ arguments: JSON) async throws -> JSON {
        let reply = await server.callForCommandLine(name, arguments: arguments, progressToken: "cli")
        switch reply {
        case .success(let json): return json
        case .failure(let failure):
            FileHandle.standardError.write(Data("vectorjobs: \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Draws progress notifications as a bar on stderr when it is a terminal.
final class ProgressBar: Sendable {
    let isTerminal = isatty(2) == 1
    private let drawn = Mutex(false)

    func draw(progress: Double, total: Double?, message: String?) {
        guard isTerminal else { return }
        drawn.withLock { $0 = true }
        var line = "\r\u{1B}[2K"
        if let total, total > 0 {
            let fraction = min(1, progress / total)
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += String(format: "%5.1f%% ", fraction * 100)
        }
        line += message ?? ""
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if drawn.withLock({ $0 }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

struct ProgressSink: MessageSink {
    let bar: ProgressBar
    func send(_ message: Message) {
        if case .notification("notifications/progress", let params?) = message {
            bar.draw(progress: params["progress"]?.doubleValue ?? 0, total: params["total"]?.doubleValue,
                     message: params["message"]?.stringValue)
        }
    }
}
