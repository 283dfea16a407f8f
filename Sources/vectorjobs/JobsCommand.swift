import ArgumentParser
import Foundation
import JSON
import MCP
import Tools

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List job handles in the state directory (newest first).")

    @OptionGroup var common: CommonOptions

    @Option(help: "Only jobs in this state (queued, running, cancelling, succeeded, failed, cancelled).")
    var state: [String] = []

    @Option(help: "How many jobs.")
    var limit: Int = 20

    func run() async throws {
        let runtime = try common.makeRuntime()
        let server = MCPServer(info: MCPServer.Info(name: "vectorjobs", version: Runtime.version),
                               catalog: Catalog(environment: runtime.environment), sink: ProgressSink(bar: ProgressBar()))
        var arguments: JSON = ["limit": JSON(limit)]
        if !state.isEmpty { arguments["state"] = .array(state.map(JSON.string)) }
        switch await server.callForCommandLine("jobs_list", arguments: arguments, progressToken: "cli") {
        case .success(let result):
            for job in result["jobs"]?.arrayValue ?? [] {
                let progress = job["progress"]
                let total = progress?["total"]?.intValue.map { "/\($0)" } ?? ""
                print("\(job["job_id"]?.stringValue ?? "")  \(job["state"]?.stringValue ?? "")  \(job["collection"]?.stringValue ?? "")  \(progress?["done"]?.intValue ?? 0)\(total) \(progress?["unit"]?.stringValue ?? "")  \(job["created_at"]?.stringValue ?? "")")
            }
        case .failure(let failure):
            FileHandle.standardError.write(Data("vectorjobs: \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
