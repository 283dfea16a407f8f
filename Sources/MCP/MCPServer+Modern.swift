import Foundation
import JSON
import JSONRPC

/// The per-request metadata of the 2026-07-28 revision (no `initialize`: every request says who it is).
struct ModernEnvelope {
    static let versionKey = "io.modelcontextprotocol/protocolVersion"
    static let capabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let tasksExtension = "io.modelcontextprotocol/tasks"
    static let supportedVersions = ["2026-07-28"]

    let version: String
    let clientCapabilities: JSON

    /// nil for a request of the handshake era (no protocol version in `_meta`).
    init?(_ params: JSON?) throws(RPCError) {
        guard let meta = params?["_meta"], let raw = meta[Self.versionKey] else { return nil }
        guard let version = raw.stringValue else {
            throw RPCError.invalidParams("_meta[\"\(Self.versionKey)\"] must be a string")
        }
        guard Self.supportedVersions.contains(version) else {
            throw RPCError(.unsupportedProtocolVersion, "Unsupported protocol version",
                           data: ["supported": .array((Self.supportedVersions + ProtocolVersion.handshakeVersions).map(JSON.string)),
                                  "requested": .string(version)])
        }
        guard let capabilities = meta[Self.capabilitiesKey], capabilities.objectValue != nil else {
            throw RPCError.invalidParams("_meta[\"\(Self.capabilitiesKey)\"] is required (an object; {} for none)")
        }
        self.version = version
        self.clientCapabilities = capabilities
    }

    var supportsTasks: Bool { clientCapabilities["extensions"]?[Self.tasksExtension] != nil }
}

extension MCPServer {
    /// Every modern result carries `resultType` (default `complete`) and the server's info.
    func decorate(_ result: JSON) -> JSON {
        var out = result
        if out["resultType"] == nil { out["resultType"] = "complete" }
        var meta = out["_meta"] ?? [:]
        meta["io.modelcontextprotocol/serverInfo"] = ["name": .string(info.name), "version": .string(info.version)]
        out["_meta"] = meta
        return out
    }

    /// Cacheable results also say how long they may be kept, and by whom.
    func cacheable(_ result: JSON) -> JSON {
        var out = result
        out["ttlMs"] = 0
        out["cacheScope"] = "private"
        return out
    }

    func discover() -> JSON {
        var capabilities: JSON = ["tools": ["listChanged": false], "logging": [:]]
        if resources != nil { capabilities["resources"] = ["subscribe": true, "listChanged": false] }
        if tasks != nil { capabilities["extensions"] = [.init(stringLiteral: ModernEnvelope.tasksExtension): [:]] }
        var result: JSON = [
            "supportedVersions": .array((ModernEnvelope.supportedVersions + ProtocolVersion.handshakeVersions).map(JSON.string)),
            "capabilities": capabilities,
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        return cacheable(result)
    }

    func handleModern(id: RequestID, method: String, params: JSON?, envelope: ModernEnvelope) async throws -> JSON {
        switch method {
        case "subscriptions/listen":
            return try await listen(id: id, params: params, envelope: envelope)
        case "server/discover":
            return discover()
        case "tools/list":
            return cacheable(try listTools(cursor: params?["cursor"], modern: true))
        case "tools/call":
            if envelope.supportsTasks, tasks != nil, let name = params?["name"]?.stringValue, definitions[name]?.startsJob == true {
                return try await callToolAsTask(params, ttlMs: nil, modern: true)
            }
            return try await callTool(params) // a `task` param is ignored in this revision
        case "tasks/get", "tasks/update", "tasks/cancel":
            guard envelope.supportsTasks else {
                throw RPCError(.missingRequiredClientCapability, "Missing required client capability",
                               data: ["requiredCapabilities": ["extensions": [.init(stringLiteral: ModernEnvelope.tasksExtension): [:]]]])
            }
            return try await handleModernTask(method: method, params: params)
        case "resources/list", "resources/templates/list", "resources/read":
            return cacheable(try await handleResources(method: method, params: params, modern: true))
        default:
            // initialize, ping, logging/setLevel, resources/subscribe, tasks/list and tasks/result are gone in this revision.
            if definitions[method] != nil { return try await callToolAsMethod(method, params: params) }
            throw RPCError.methodNotFound(method)
        }
    }
}
