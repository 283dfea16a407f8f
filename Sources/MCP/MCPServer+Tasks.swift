import Foundation
import JSON
import JSONRPC

extension MCPServer {
    static let relatedTaskKey = "io.modelcontextprotocol/related-task"

    /// Runs a job-starting tool and answers with a task backed by its job instead of the result.
    func callToolAsTask(_ params: JSON?, ttlMs: Int64?, modern: Bool) async throws -> JSON {
        guard let tasks else { throw RPCError.methodNotFound("tools/call with a task") }
        guard let name = params?["name"]?.stringValue else { throw RPCError.invalidParams("\"name\" is required") }
        guard let definition = definitions[name] else { throw RPCError.invalidParams("Unknown tool: \(name)") }
        guard definition.startsJob else {
            throw RPCError(.methodNotFound, "Tool \(name) does not support task-augmented execution (execution.taskSupport is forbidden)")
        }
        var arguments = params?["arguments"] ?? [:]
        if arguments == .null { arguments = [:] }
        // The task's progress token follows the job (rows or percent); the upload's bytes would not be monotonic with it.
        let reporter = modern ? nil : progressReporter(params)
        let outcome = await run(name, arguments: arguments, context: .none)
        let task = try tasks.createTask(tool: name, outcome: outcome, ttlMs: ttlMs)
        if !modern {
            watchTask(task)
            if let reporter { followProgress(task.taskID, reporter: reporter) }
            return ["task": task.legacyJSON]
        }
        var result = task.modernJSON
        result["resultType"] = "task"
        result["result"] = nil
        return result
    }

    func unknownTask(_ id: String) -> RPCError { RPCError.invalidParams("Failed to retrieve task: Task not found (\(id))") }

    func taskID(_ params: JSON?) throws(RPCError) -> String {
        guard let id = params?["taskId"]?.stringValue, !id.isEmpty else { throw RPCError.invalidParams("\"taskId\" is required") }
        return id
    }

    func handleLegacyTask(method: String, params: JSON?) async throws -> JSON {
        guard let tasks else { throw RPCError.methodNotFound(method) }
        switch method {
        case "tasks/list":
            let page = try await tasks.list(cursor: params?["cursor"]?.stringValue, limit: 50)
            var result: JSON = ["tasks": .array(page.tasks.map(\.legacyJSON))]
            if let next = page.nextCursor { result["nextCursor"] = .string(next) }
            return result
        case "tasks/get":
            let id = try taskID(params)
            guard let task = await tasks.task(id) else { throw unknownTask(id) }
            return task.legacyJSON
        case "tasks/cancel":
            let id = try taskID(params)
            guard let task = await tasks.task(id) else { throw unknownTask(id) }
            guard !task.isTerminal else {
                throw RPCError.invalidParams("Cannot cancel task: already in terminal status '\(task.status.rawValue)'")
            }
            return try await tasks.cancel(id).legacyJSON
        default: // tasks/result: blocks until the task is terminal
            let id = try taskID(params)
            while true {
                guard let task = await tasks.task(id) else { throw unknownTask(id) }
                if task.isTerminal, var result = task.result {
                    var meta = result["_meta"] ?? [:]
                    meta[Self.relatedTaskKey] = ["taskId": .string(id)]
                    result["_meta"] = meta
                    return result
                }
                try await Task.sleep(for: .milliseconds(min(1000, max(100, Int(task.pollIntervalMs ?? 500)))))
            }
        }
    }

    func handleModernTask(method: String, params: JSON?) async throws -> JSON {
        guard let tasks else { throw RPCError.methodNotFound(method) }
        let id = try taskID(params)
        guard let task = await tasks.task(id) else { throw unknownTask(id) }
        switch method {
        case "tasks/get":
            return task.modernJSON
        case "tasks/cancel":
            if !task.isTerminal { _ = try await tasks.cancel(id) }
            return [:]
        default: // tasks/update: nothing of ours ever waits for input
            return [:]
        }
    }

    /// Sends the task's progress under the original request's token until it ends (2025-11-25).
    func followProgress(_ id: String, reporter: ProgressReporter) {
        guard let tasks else { return }
        Task.detached {
            while let task = await tasks.task(id), !task.isTerminal {
                if let (done, total, message) = await tasks.progress(id) { reporter.report(done, total: total, message: message) }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Announces the task's status changes with `notifications/tasks/status` (2025-11-25).
    func watchTask(_ task: TaskInfo) {
        state.withLock { $0.watchedTasks[task.taskID] = task.status.rawValue }
        startWatcher()
    }

    /// One loop per connection that sends task status and resource update notifications.
    func startWatcher() {
        let start = state.withLock { state -> Bool in
            defer { state.watcherStarted = true }
            return !state.watcherStarted
        }
        guard start else { return }
        Task.detached { [self] in
            while true {
                try? await Task.sleep(for: .milliseconds(400))
                await watchOnce()
            }
        }
    }

    func watchOnce() async {
        await watchStreams()
        let (watched, subscribed) = state.withLock { ($0.watchedTasks, $0.subscriptions) }
        if let tasks {
            for (id, lastStatus) in watched {
                guard let task = await tasks.task(id) else {
                    state.withLock { _ = $0.watchedTasks.removeValue(forKey: id) }
                    continue
                }
                guard task.status.rawValue != lastStatus else { continue }
                state.withLock { state in
                    if task.isTerminal { state.watchedTasks[id] = nil } else { state.watchedTasks[id] = task.status.rawValue }
                }
                sink.send(.notification(method: "notifications/tasks/status", params: task.legacyJSON))
            }
        }
        if let resources {
            for (uri, lastVersion) in subscribed {
                let version = await resources.version(uri) ?? ""
                guard version != lastVersion else { continue }
                state.withLock { $0.subscriptions[uri] = version }
                sink.send(.notification(method: "notifications/resources/updated", params: ["uri": .string(uri)]))
            }
        }
    }

    func handleResources(method: String, params: JSON?, modern: Bool) async throws -> JSON {
        guard let resources else { throw RPCError.methodNotFound(method) }
        switch method {
        case "resources/templates/list":
            return ["resourceTemplates": .array(resources.templates)]
        case "resources/list":
            let page = try await resources.list(cursor: params?["cursor"]?.stringValue)
            var result: JSON = ["resources": .array(page.resources)]
            if let next = page.nextCursor { result["nextCursor"] = .string(next) }
            return result
        case "resources/read":
            guard let uri = params?["uri"]?.stringValue else { throw RPCError.invalidParams("\"uri\" is required") }
            return try await resources.read(uri)
        case "resources/subscribe":
            guard let uri = params?["uri"]?.stringValue else { throw RPCError.invalidParams("\"uri\" is required") }
            guard let version = await resources.version(uri) else { throw RPCError.invalidParams("Resource not found: \(uri)") }
            state.withLock { $0.subscriptions[uri] = version }
            startWatcher()
            return [:]
        default: // resources/unsubscribe
            guard let uri = params?["uri"]?.stringValue else { throw RPCError.invalidParams("\"uri\" is required") }
            state.withLock { _ = $0.subscriptions.removeValue(forKey: uri) }
            return [:]
        }
    }
}
