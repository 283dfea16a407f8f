import Foundation
import JSON
import JSONRPC
import Logging
import Synchronization

/// An MCP server over any message sink: lifecycle and version negotiation, tools, progress, cancellation, logging.
///
/// Requests are handled concurrently, each in its own task; exactly one reply goes out per request, unless the
/// client cancelled it. Tools may be called before `initialize`, and each tool is also a plain JSON-RPC method of
/// its own name (params = arguments, result = the structured content).
public final class MCPServer: Sendable {
    public struct Info: Sendable {
        public var name: String
        public var version: String
        public var instructions: String?
        public init(name: String, version: String, instructions: String? = nil) {
            self.name = name
            self.version = version
            self.instructions = instructions
        }
    }

    public let info: Info
    public let catalog: any ToolCatalog
    public let sink: any MessageSink
    public let pageSize: Int
    /// Methods beyond MCP's own (diagnostics); each gets the params and returns the result.
    public typealias ExtraMethod = @Sendable (JSON?) async throws -> JSON
    private let extraMethods: [String: ExtraMethod]
    private let logger = Logger(label: "vectorjobs.mcp")
    private let validators: [String: JSONSchemaValidator]
    let definitions: [String: ToolDefinition]

    struct State {
        var inFlight: [RequestID: Task<Void, Never>] = [:]
        var cancelled: Set<RequestID> = []
        var negotiatedVersion: String?
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// Tasks whose status changes this connection announces (2025-11-25), with the last status sent.
        var watchedTasks: [String: String] = [:]
        /// Subscribed resource URIs, with the version last seen.
        var subscriptions: [String: String] = [:]
        var watcherStarted = false
        /// Open `subscriptions/listen` streams (2026-07-28), by the id of their request.
        var streams: [RequestID: ListenStream] = [:]
        var closing = false
    }
    let state = Mutex(State())

    public let tasks: (any TaskBackend)?
    public let resources: (any ResourceProvider)?

    public init(info: Info, catalog: any ToolCatalog, sink: any MessageSink, pageSize: Int = 100,
                extraMethods: [String: ExtraMethod] = [:], tasks: (any TaskBackend)? = nil, resources: (any ResourceProvider)? = nil) {
        self.info = info
        self.extraMethods = extraMethods
        self.tasks = tasks
        self.resources = resources
        self.catalog = catalog
        self.sink = sink
        self.pageSize = max(1, pageSize)
        var validators: [String: JSONSchemaValidator] = [:]
        var definitions: [String: ToolDefinition] = [:]
        for tool in catalog.definitions {
            validators[tool.name] = JSONSchemaValidator(tool.inputSchema)
            definitions[tool.name] = tool
        }
        self.validators = validators
        self.definitions = definitions
    }

    public var negotiatedVersion: String? { state.withLock { $0.negotiatedVersion } }

    /// Takes one incoming message (from the reader thread) and handles it without blocking the caller.
    public func receive(_ incoming: StdioConnection.Incoming) {
        guard case .message(let message) = incoming else { return }
        switch message {
        case .request(let id, let method, let params):
            startRequest(id: id, method: method, params: params)
        case .notification(let method, let params):
            handleNotification(method: method, params: params)
        case .response, .error:
            break // We send no requests, so there is nothing to match replies to.
        }
    }

    /// Resolves when no request is in flight (used to exit after owed replies are written).
    public func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if state.inFlight.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func startRequest(id: RequestID, method: String, params: JSON?) {
        state.withLock { state in
            let task = Task { [self] in
                let reply: Message
                do {
                    reply = .response(id: id, result: try await handleRequest(id: id, method: method, params: params))
                } catch let error as RPCError {
                    reply = .error(id: id, error: error)
                } catch {
                    reply = .error(id: id, error: .internalError(LogRouter.shared.redact(String(describing: error))))
                }
                finish(id: id, reply: reply)
            }
            state.inFlight[id] = task
        }
    }

    /// Sends the one reply of a request (none when the client cancelled it), then forgets the request. The request
    /// counts as in flight until its reply is written, so exiting when idle never drops a reply.
    private func finish(id: RequestID, reply: Message) {
        let send = state.withLock { $0.cancelled.remove(id) == nil }
        if send { sink.send(reply) }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight[id] = nil
            var waiters: [CheckedContinuation<Void, Never>] = []
            if state.inFlight.isEmpty { swap(&waiters, &state.idleWaiters) }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func handleNotification(method: String, params: JSON?) {
        switch method {
        case "notifications/cancelled":
            guard let raw = params?["requestId"], let id = RequestID(raw) else { return }
            let task = state.withLock { state -> Task<Void, Never>? in
                guard let task = state.inFlight[id] else { return nil }
                state.cancelled.insert(id)
                return task
            }
            task?.cancel()
        default:
            break // notifications/initialized and anything unknown need no action.
        }
    }

    func handleRequest(id: RequestID, method: String, params: JSON?) async throws -> JSON {
        if method != "initialize", let envelope = try ModernEnvelope(params) {
            return decorate(try await handleModern(id: id, method: method, params: params, envelope: envelope))
        }
        switch method {
        case "initialize":
            return initialize(params)
        case "ping":
            return [:]
        case "tools/list":
            return try listTools(cursor: params?["cursor"], modern: false)
        case "tools/call":
            if let task = params?["task"], task != .null, tasks != nil {
                return try await callToolAsTask(params, ttlMs: task["ttl"]?.intValue, modern: false)
            }
            return try await callTool(params)
        case "logging/setLevel":
            guard let raw = params?["level"]?.stringValue, let level = LogLevel(rawValue: raw) else {
                throw RPCError.invalidParams("\"level\" must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            LogRouter.shared.setClientLevel(level, sink: sink)
            return [:]
        case "tasks/get", "tasks/result", "tasks/list", "tasks/cancel":
            return try await handleLegacyTask(method: method, params: params)
        case "resources/list", "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe":
            return try await handleResources(method: method, params: params, modern: false)
        case "server/discover":
            throw RPCError.invalidParams("server/discover needs _meta[\"io.modelcontextprotocol/protocolVersion\"]")
        default:
            if definitions[method] != nil { return try await callToolAsMethod(method, params: params) }
            if let extra = extraMethods[method] { return try await extra(params) }
            throw RPCError.methodNotFound(method)
        }
    }

    private func initialize(_ params: JSON?) -> JSON {
        let version = ProtocolVersion.negotiate(params?["protocolVersion"]?.stringValue)
        state.withLock { $0.negotiatedVersion = version }
        var capabilities: JSON = ["tools": ["listChanged": false], "logging": [:]]
        if resources != nil { capabilities["resources"] = ["subscribe": true, "listChanged": false] }
        if tasks != nil && version >= "2025-11-25" {
            capabilities["tasks"] = ["list": [:], "cancel": [:], "requests": ["tools": ["call": [:]]]]
        }
        var result: JSON = [
            "protocolVersion": .string(version),
            "capabilities": capabilities,
            "serverInfo": ["name": .string(info.name), "version": .string(info.version)],
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        return result
    }

    func listTools(cursor: JSON?, modern: Bool) throws -> JSON {
        let all = catalog.definitions
        var start = 0
        if let cursor, cursor != .null {
            guard let text = cursor.stringValue, let offset = Self.decodeCursor(text), offset <= all.count else {
                throw RPCError.invalidParams("invalid cursor")
            }
            start = offset
        }
        let end = min(all.count, start + pageSize)
        let tools: [JSON] = all[start..<end].map { tool in
            var json = tool.json
            // 2025-11-25 tasks: tools that start a job may run as a task. The 2026-07-28 Tool has no such field.
            if !modern && tasks != nil && tool.startsJob { json["execution"] = ["taskSupport": "optional"] }
            return json
        }
        var result: JSON = ["tools": .array(tools)]
        if end < all.count { result["nextCursor"] = .string(Self.encodeCursor(end)) }
        return result
    }

    static func encodeCursor(_ offset: Int) -> String { Data("tools:\(offset)".utf8).base64EncodedString() }
    static func decodeCursor(_ cursor: String) -> Int? {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("tools:") else { return nil }
        return Int(text.dropFirst(6))
    }

    func progressReporter(_ params: JSON?) -> ProgressReporter? {
        guard let token = params?["_meta"]?["progressToken"], token.stringValue != nil || token.intValue != nil else { return nil }
        return ProgressReporter(token: token, sink: sink)
    }

    func callTool(_ params: JSON?) async throws -> JSON {
        guard let name = params?["name"]?.stringValue else { throw RPCError.invalidParams("\"name\" is required") }
        guard definitions[name] != nil else { throw RPCError.invalidParams("Unknown tool: \(name)") }
        var arguments = params?["arguments"] ?? [:]
        if arguments == .null { arguments = [:] }
        let context = ToolCallContext(progress: progressReporter(params))
        return Self.callToolResult(await run(name, arguments: arguments, context: context))
    }

    /// A CallToolResult: the structured content with the same JSON as text, or the failure as an `isError` result.
    public static func callToolResult(_ outcome: Result<JSON, ToolFailure>) -> JSON {
        switch outcome {
        case .success(let structured):
            return ["content": [["type": "text", "text": .string(structured.serialized())]], "structuredContent": structured, "isError": false]
        case .failure(let failure):
            var result: JSON = ["content": [["type": "text", "text": .string(failure.message)]], "isError": true]
            if let details = failure.details { result["_meta"] = ["vectorjobs/error": details] }
            return result
        }
    }

    func callToolAsMethod(_ name: String, params: JSON?) async throws -> JSON {
        var arguments = params ?? [:]
        arguments["_meta"] = nil
        switch await run(name, arguments: arguments, context: ToolCallContext(progress: progressReporter(params))) {
        case .success(let structured):
            return structured
        case .failure(let failure):
            let code: ErrorCode = failure.details?["violations"] != nil ? .invalidParams : .toolError
            throw RPCError(code, failure.message, data: failure.details)
        }
    }

    /// Runs a tool directly (the command line's `call`), with progress going to the sink under `progressToken`.
    public func callForCommandLine(_ name: String, arguments: JSON, progressToken: JSON) async -> Result<JSON, ToolFailure> {
        guard definitions[name] != nil else {
            return .failure(ToolFailure("unknown tool \(name); `vectorjobs tools` lists them"))
        }
        let progress = ProgressReporter(token: progressToken, sink: sink, minimumInterval: .milliseconds(200))
        return await run(name, arguments: arguments, context: ToolCallContext(progress: progress))
    }

    /// Validates the arguments, then runs the tool. Errors of the tool come back as failures, never as throws.
    func run(_ name: String, arguments: JSON, context: ToolCallContext) async -> Result<JSON, ToolFailure> {
        let violations = validators[name]?.validate(arguments) ?? []
        if !violations.isEmpty {
            let lines = violations.map { "- \($0.path): \($0.message) (rule: \($0.rule))" }.joined(separator: "\n")
            return .failure(ToolFailure("Invalid arguments for \(name):\n\(lines)",
                                        details: ["violations": .array(violations.map(\.json))]))
        }
        do {
            return .success(try await catalog.call(name, arguments: arguments, context: context))
        } catch {
            logger.debug("tool failed", metadata: ["tool": "\(name)"])
            return .failure(ToolFailure(LogRouter.shared.redact(error.message),
                                        details: error.details.map { JSON.parse(redacting: $0) }))
        }
    }
}

extension JSON {
    /// The value with every registered secret masked (re-parsed from its redacted text).
    static func parse(redacting value: JSON) -> JSON {
        let text = value.serialized()
        let redacted = LogRouter.shared.redact(text)
        return redacted == text ? value : ((try? JSON.parse(redacted)) ?? .null)
    }
}
