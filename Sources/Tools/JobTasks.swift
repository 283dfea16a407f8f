import Foundation
import JSON
import JSONRPC
import Jobs
import MCP
import Store

/// MCP tasks backed by job handles: a task is a row beside the jobs in the state directory, so it outlives the
/// process that made it, and its status is its job's.
///
/// `tasks/list` is offered: on stdio the requestor is the local user who owns the state directory, and every task
/// in it was made by that user, so listing exposes nothing another party could not read from the file itself.
public struct JobTaskBackend: TaskBackend {
    public let environment: ToolEnvironment
    static let defaultTTLMs: Int64 = 24 * 3600 * 1000
    static let maxTTLMs: Int64 = 7 * 24 * 3600 * 1000

    public init(environment: ToolEnvironment) { self.environment = environment }

    var store: JobStore { environment.jobs.store }

    public func createTask(tool: String, outcome: Result<JSON, ToolFailure>, ttlMs: Int64?) throws(RPCError) -> TaskInfo {
        let ttl = min(max(ttlMs ?? Self.defaultTTLMs, 1000), Self.maxTTLMs)
        var jobID: String?
        var initial: String?
        var failure: String?
        switch outcome {
        case .success(let structured):
            jobID = structured["job"]?["job_id"]?.stringValue
            initial = structured.serialized()
        case .failure(let error):
            failure = error.message
            jobID = error.details?["job"]?["job_id"]?.stringValue
        }
        var pollMs: Int64 = 5000
        if let jobID, let record = try? environment.jobs.get(jobID) {
            let interval = environment.jobs.pollInterval(for: record)
            pollMs = max(100, Int64(interval.components.seconds) * 1000 + Int64(interval.components.attoseconds / 1_000_000_000_000_000))
        }
        let task = TaskRecord(id: "task_" + JobID.make().dropFirst(4), jobID: jobID, tool: tool, createdAt: Date().timeIntervalSince1970,
                              ttlMs: ttl, pollMs: pollMs, initialResult: initial, failure: failure)
        do { try store.insertTask(task) } catch { throw RPCError.internalError("cannot record the task: \(error)") }
        return info(task, job: jobID.flatMap { try? environment.jobs.get($0) })
    }

    public func task(_ id: String) async -> TaskInfo? {
        guard let record = try? store.task(id), !record.isExpired else { return nil }
        var job: JobRecord?
        if let jobID = record.jobID {
            job = try? await environment.jobs.refresh(jobID, maxAge: .milliseconds(record.pollMs / 2))
            if job == nil { job = try? environment.jobs.get(jobID) }
        }
        return info(record, job: job)
    }

    static func iso(_ t: Double) -> String {
        ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: t), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    /// The task's state, read from its job.
    func info(_ record: TaskRecord, job: JobRecord?) -> TaskInfo {
        let status: TaskInfo.Status
        var message: String?
        var result: JSON?
        if let job {
            switch job.state {
            case .succeeded: status = .completed
            case .failed: status = .failed
            case .cancelled: status = .cancelled
            default: status = record.cancelled ? .cancelled : .working
            }
            message = "\(job.state.rawValue)" + (job.providerStatus.map { " (\($0))" } ?? "")
                + ": \(job.progressDone)" + (job.progressTotal.map { " of \($0)" } ?? "") + " \(job.progressUnit)"
            if let error = job.error { message! += "; \(error)" }
            if status != .working {
                var structured = (record.initialResult.flatMap { try? JSON.parse($0) }) ?? [:]
                structured["job"] = job.json
                switch status {
                case .completed:
                    result = MCPServer.callToolResult(.success(structured))
                case .cancelled:
                    result = MCPServer.callToolResult(.failure(ToolFailure("job \(job.id) was cancelled; rows already written stay", details: ["job": job.json])))
                default:
                    result = MCPServer.callToolResult(.failure(ToolFailure(record.failure ?? "job \(job.id) failed: \(job.error ?? "unknown error")",
                                                                           details: ["job": job.json])))
                }
            }
        } else {
            status = record.cancelled ? .cancelled : .failed
            message = record.failure
            result = MCPServer.callToolResult(.failure(ToolFailure(record.failure ?? "the tool call failed")))
        }
        return TaskInfo(taskID: record.id, status: status, statusMessage: message, createdAt: Self.iso(record.createdAt),
                        lastUpdatedAt: Self.iso(max(record.createdAt, job?.updatedAt ?? record.createdAt)), ttlMs: record.ttlMs,
                        pollIntervalMs: record.pollMs, result: result)
    }

    public func list(cursor: String?, limit: Int) async throws(RPCError) -> (tasks: [TaskInfo], nextCursor: String?) {
        var offset = 0
        if let cursor {
            guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("tasks:"),
                  let value = Int(text.dropFirst(6)), value >= 0 else { throw RPCError.invalidParams("invalid cursor") }
            offset = value
        }
        let rows: [TaskRecord]
        do { rows = try store.tasks(limit: limit + 1, offset: offset) } catch { throw RPCError.internalError("\(error)") }
        let page = rows.prefix(limit).filter { !$0.isExpired }
        let tasks = page.map { info($0, job: $0.jobID.flatMap { try? environment.jobs.get($0) }) }
        let next = rows.count > limit ? Data("tasks:\(offset + limit)".utf8).base64EncodedString() : nil
        return (tasks, next)
    }

    public func cancel(_ id: String) async throws(RPCError) -> TaskInfo {
        guard let record = try? store.task(id), !record.isExpired else { throw RPCError.invalidParams("Failed to retrieve task: Task not found") }
        do { try store.markTaskCancelled(id) } catch { throw RPCError.internalError("\(error)") }
        if let jobID = record.jobID { _ = try? await environment.jobs.cancel(jobID) }
        guard let task = await task(id) else { throw RPCError.invalidParams("Failed to retrieve task: Task not found") }
        return task
    }

    public func progress(_ id: String) async -> (Double, Double?, String)? {
        guard let record = try? store.task(id), let jobID = record.jobID, let job = try? environment.jobs.get(jobID) else { return nil }
        let message = "\(job.state.rawValue): \(job.progressDone)" + (job.progressTotal.map { " of \($0)" } ?? "") + " \(job.progressUnit)"
        return (Double(job.progressDone), job.progressTotal.map(Double.init), message)
    }
}

/// Job handles as resources: `vectorjobs://jobs/{job_id}`, JSON.
public struct JobResources: ResourceProvider {
    public let environment: ToolEnvironment
    static let prefix = "vectorjobs://jobs/"

    public init(environment: ToolEnvironment) { self.environment = environment }

    public static let templateList: [JSON] = [
        ["uriTemplate": "vectorjobs://jobs/{job_id}", "name": "job", "title": "Job handle",
         "description": "A job's state, progress and error, as job_get returns it.", "mimeType": "application/json"],
    ]

    public var templates: [JSON] { Self.templateList }

    func jobID(_ uri: String) throws(RPCError) -> String {
        guard uri.hasPrefix(Self.prefix) else { throw RPCError.invalidParams("Resource not found: \(uri)") }
        return String(uri.dropFirst(Self.prefix.count))
    }

    public func list(cursor: String?) async throws(RPCError) -> (resources: [JSON], nextCursor: String?) {
        let page: JobManager.Page
        do { page = try environment.jobs.list(JobStore.Filter(), limit: 50, cursor: cursor) } catch {
            throw RPCError.invalidParams(error.message)
        }
        let resources: [JSON] = page.jobs.map { job in
            ["uri": .string(Self.prefix + job.id), "name": .string(job.id), "title": .string("\(job.kind) on \(job.collection)"),
             "description": .string("\(job.state.rawValue), \(job.progressDone) \(job.progressUnit)"), "mimeType": "application/json"]
        }
        return (resources, page.nextCursor)
    }

    public func read(_ uri: String) async throws(RPCError) -> JSON {
        let id = try jobID(uri)
        guard let job = (try? await environment.jobs.refresh(id, maxAge: .seconds(1))) ?? (try? environment.jobs.get(id)) else {
            throw RPCError.invalidParams("Resource not found: \(uri)")
        }
        return ["contents": [["uri": .string(uri), "mimeType": "application/json", "text": .string((["job": job.json] as JSON).serialized())]]]
    }

    public func version(_ uri: String) async -> String? {
        guard let id = try? jobID(uri), let job = (try? await environment.jobs.refresh(id, maxAge: .seconds(1))) ?? (try? environment.jobs.get(id)) else {
            return nil
        }
        return "\(job.state.rawValue)|\(job.progressDone)|\(job.updatedAt)"
    }
}
