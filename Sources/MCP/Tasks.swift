import Foundation
import JSON
import JSONRPC

/// A task as the protocol shows it, in either revision's shape.
public struct TaskInfo: Sendable {
    public enum Status: String, Sendable { case working, inputRequired = "input_required", completed, failed, cancelled }

    public var taskID: String
    public var status: Status
    public var statusMessage: String?
    public var createdAt: String
    public var lastUpdatedAt: String
    /// Retention from creation in milliseconds; nil for unlimited.
    public var ttlMs: Int64?
    public var pollIntervalMs: Int64?
    /// The tool's result once the task is terminal: the CallToolResult the plain call would have produced.
    public var result: JSON?

    public init(taskID: String, status: Status, statusMessage: String?, createdAt: String, lastUpdatedAt: String,
                ttlMs: Int64?, pollIntervalMs: Int64?, result: JSON?) {
        self.taskID = taskID
        self.status = status
        self.statusMessage = statusMessage
        self.createdAt = createdAt
        self.lastUpdatedAt = lastUpdatedAt
        self.ttlMs = ttlMs
        self.pollIntervalMs = pollIntervalMs
        self.result = result
    }

    public var isTerminal: Bool { status == .completed || status == .failed || status == .cancelled }

    /// 2025-11-25: `{taskId, status, statusMessage?, createdAt, lastUpdatedAt, ttl, pollInterval?}`.
    public var legacyJSON: JSON {
        var o: JSON = ["taskId": .string(taskID), "status": .string(status.rawValue), "createdAt": .string(createdAt),
                       "lastUpdatedAt": .string(lastUpdatedAt), "ttl": ttlMs.map(JSON.int) ?? .null]
        if let statusMessage { o["statusMessage"] = .string(statusMessage) }
        if let pollIntervalMs { o["pollInterval"] = .int(pollIntervalMs) }
        return o
    }

    /// 2026-07-28 tasks extension: `ttlMs`, `pollIntervalMs`, and the result inline once completed.
    /// A tool result with `isError` is a completed task there (failed is for JSON-RPC errors only).
    public var modernJSON: JSON {
        var modernStatus = status
        if status == .failed, result != nil { modernStatus = .completed }
        var o: JSON = ["taskId": .string(taskID), "status": .string(modernStatus.rawValue), "createdAt": .string(createdAt),
                       "lastUpdatedAt": .string(lastUpdatedAt), "ttlMs": ttlMs.map(JSON.int) ?? .null]
        if let statusMessage { o["statusMessage"] = .string(statusMessage) }
        if let pollIntervalMs { o["pollIntervalMs"] = .int(pollIntervalMs) }
        if modernStatus == .completed, var result {
            result["resultType"] = "complete"
            o["result"] = result
        }
        return o
    }
}

/// Where tasks live. The server speaks the protocol; the backend keeps tasks (durably, so they outlive a process).
public protocol TaskBackend: Sendable {
    /// Makes a task for a tool call that starts a job, from what the plain call returned.
    func createTask(tool: String, outcome: Result<JSON, ToolFailure>, ttlMs: Int64?) throws(RPCError) -> TaskInfo
    /// The task, or nil when it is unknown or expired.
    func task(_ id: String) async -> TaskInfo?
    /// Tasks, newest first, a page at a time.
    func list(cursor: String?, limit: Int) async throws(RPCError) -> (tasks: [TaskInfo], nextCursor: String?)
    /// Cancels the task's job; the task reads `cancelled` from then on.
    func cancel(_ id: String) async throws(RPCError) -> TaskInfo
    /// Progress of a working task: done, total, message.
    func progress(_ id: String) async -> (Double, Double?, String)?
}

/// Resources the server exposes (job handles, readable as JSON).
public protocol ResourceProvider: Sendable {
    var templates: [JSON] { get }
    func list(cursor: String?) async throws(RPCError) -> (resources: [JSON], nextCursor: String?)
    func read(_ uri: String) async throws(RPCError) -> JSON
    /// A token that changes whenever the resource does (for update notifications); nil when it does not exist.
    func version(_ uri: String) async -> String?
}
