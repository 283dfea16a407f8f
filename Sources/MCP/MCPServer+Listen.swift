import Foundation
import JSON
import JSONRPC

/// One open `subscriptions/listen` stream: what it asked for, and what it has been told so far.
struct ListenStream {
    var resources: [String: String]   // uri → version last announced
    var tasks: [String: String]       // task id → status last announced
    var end: CheckedContinuation<Void, Never>?
}

extension MCPServer {
    static let subscriptionKey = "io.modelcontextprotocol/subscriptionId"

    /// `subscriptions/listen` (2026-07-28): acknowledges what it will honour, then tags every notification of the
    /// stream with the request's id. The request stays open until the client cancels it or the server shuts down.
    func listen(id: RequestID, params: JSON?, envelope: ModernEnvelope) async throws -> JSON {
        let filter = params?["notifications"] ?? [:]
        var stream = ListenStream(resources: [:], tasks: [:], end: nil)
        var honored = JSONObject()
        if let resources, let uris = filter["resourceSubscriptions"]?.arrayValue?.compactMap(\.stringValue) {
            var accepted: [JSON] = []
            for uri in uris {
                guard let version = await resources.version(uri) else { continue }
                stream.resources[uri] = version
                accepted.append(.string(uri))
            }
            honored["resourceSubscriptions"] = .array(accepted)
        }
        if let tasks, envelope.supportsTasks, let ids = filter["taskIds"]?.arrayValue?.compactMap(\.stringValue) {
            var accepted: [JSON] = []
            for taskID in ids {
                guard let task = await tasks.task(taskID) else { continue }
                stream.tasks[taskID] = task.isTerminal ? "final" : task.modernJSON["status"]?.stringValue ?? ""
                accepted.append(.string(taskID))
            }
            honored["taskIds"] = .array(accepted)
        }
        let tag: JSON = [.init(stringLiteral: Self.subscriptionKey): id.json]
        sink.send(.notification(method: "notifications/subscriptions/acknowledged",
                                params: ["notifications": .object(honored), "_meta": tag]))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let closed = state.withLock { state -> Bool in
                    if state.closing || Task.isCancelled { return true }
                    stream.end = continuation
                    state.streams[id] = stream
                    return false
                }
                if closed { continuation.resume() }
                startWatcher()
            }
        } onCancel: {
            let end = state.withLock { $0.streams.removeValue(forKey: id)?.end }
            end?.resume()
        }
        state.withLock { _ = $0.streams.removeValue(forKey: id) }
        return ["_meta": tag]
    }

    /// Ends every open listen stream gracefully (each gets its result), before the server exits.
    public func closeSubscriptions() {
        let ends = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closing = true
            let ends = state.streams.values.compactMap(\.end)
            state.streams.removeAll()
            return ends
        }
        for end in ends { end.resume() }
    }

    /// Sends what changed to each open listen stream.
    func watchStreams() async {
        let streams = state.withLock { $0.streams.map { ($0.key, $0.value.resources, $0.value.tasks) } }
        for (id, uris, taskIDs) in streams {
            let tag: JSON = [.init(stringLiteral: Self.subscriptionKey): id.json]
            if let resources {
                for (uri, last) in uris {
                    let version = await resources.version(uri) ?? ""
                    guard version != last else { continue }
                    state.withLock { $0.streams[id]?.resources[uri] = version }
                    sink.send(.notification(method: "notifications/resources/updated", params: ["uri": .string(uri), "_meta": tag]))
                }
            }
            if let tasks {
                for (taskID, last) in taskIDs where last != "final" {
                    guard let task = await tasks.task(taskID) else { continue }
                    var shown = task.modernJSON
                    let status = task.isTerminal ? "final" : shown["status"]?.stringValue ?? ""
                    guard status != last else { continue }
                    state.withLock { $0.streams[id]?.tasks[taskID] = status }
                    shown["_meta"] = tag
                    sink.send(.notification(method: "notifications/tasks", params: shown))
                }
            }
        }
    }
}
