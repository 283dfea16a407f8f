import Foundation
import JSON
import JSONRPC
import MCP
import Synchronization
import Tools

/// The runtime, opened in the background while the server already answers what needs none of it
/// (`initialize`, `ping`, `tools/list`): opening the stores is most of a spawn's start-up.
final class LazyRuntime: Sendable {
    typealias Parts = (Runtime, Catalog, JobTaskBackend, JobResources)
    private final class Box: Sendable { let value = Mutex<Parts?>(nil) }
    private let task: Task<Runtime, Error>
    private let box = Box()

    init(_ options: RuntimeOptions) {
        let box = self.box
        task = Task.detached {
            let runtime = try Runtime(options: options)
            let environment = runtime.environment
            box.value.withLock { $0 = (runtime, Catalog(environment: environment), JobTaskBackend(environment: environment), JobResources(environment: environment)) }
            runtime.startBackgroundWork()
            return runtime
        }
    }

    /// Waits for the runtime; a failure to open it ends the process with the reason on stderr.
    func parts() async -> Parts {
        if let parts = box.value.withLock({ $0 }) { return parts }
        do {
            _ = try await task.value
        } catch {
            FileHandle.standardError.write(Data("vectorjobs: \(LogRouter.shared.redact(String(describing: error)))\n".utf8))
            _exit(2)
        }
        return box.value.withLock { $0 }!
    }

    var readyParts: Parts? { box.value.withLock { $0 } }
}

struct LazyCatalog: ToolCatalog {
    let runtime: LazyRuntime
    var definitions: [ToolDefinition] { Catalog.definitions }

    func call(_ name: String, arguments: JSON, context: ToolCallContext) async throws(ToolFailure) -> JSON {
        try await runtime.parts().1.call(name, arguments: arguments, context: context)
    }
}

struct LazyTasks: TaskBackend {
    let runtime: LazyRuntime

    func createTask(tool: String, outcome: Result<JSON, ToolFailure>, ttlMs: Int64?) throws(RPCError) -> TaskInfo {
        // A task follows a tool call, which waited for the runtime: it is open by now.
        guard let tasks = runtime.readyParts?.2 else { throw RPCError.internalError("the server is still starting") }
        return try tasks.createTask(tool: tool, outcome: outcome, ttlMs: ttlMs)
    }
    func task(_ id: String) async -> TaskInfo? { await runtime.parts().2.task(id) }
    func list(cursor: String?, limit: Int) async throws(RPCError) -> (tasks: [TaskInfo], nextCursor: String?) {
        try await runtime.parts().2.list(cursor: cursor, limit: limit)
    }
    func cancel(_ id: String) async throws(RPCError) -> TaskInfo { try await runtime.parts().2.cancel(id) }
    func progress(_ id: String) async -> (Double, Double?, String)? { await runtime.parts().2.progress(id) }
}

struct LazyResources: ResourceProvider {
    let runtime: LazyRuntime
    var templates: [JSON] { JobResources.templateList }
    func list(cursor: String?) async throws(RPCError) -> (resources: [JSON], nextCursor: String?) {
        try await runtime.parts().3.list(cursor: cursor)
    }
    func read(_ uri: String) async throws(RPCError) -> JSON { try await runtime.parts().3.read(uri) }
    func version(_ uri: String) async -> String? { await runtime.parts().3.version(uri) }
}
