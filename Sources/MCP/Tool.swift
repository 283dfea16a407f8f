import JSON

/// Hints for clients about what a tool does (MCP `ToolAnnotations`).
public struct ToolAnnotations: Sendable {
    public var readOnly: Bool
    public var destructive: Bool
    public var idempotent: Bool
    public var openWorld: Bool

    public init(readOnly: Bool = false, destructive: Bool = false, idempotent: Bool = false, openWorld: Bool = true) {
        self.readOnly = readOnly
        self.destructive = destructive
        self.idempotent = idempotent
        self.openWorld = openWorld
    }

    public static let readOnly = ToolAnnotations(readOnly: true, idempotent: true)
    public static let local = ToolAnnotations(readOnly: true, idempotent: true, openWorld: false)

    public var json: JSON {
        ["readOnlyHint": .bool(readOnly), "destructiveHint": .bool(destructive),
         "idempotentHint": .bool(idempotent), "openWorldHint": .bool(openWorld)]
    }
}

/// Everything `tools/list` says about a tool.
public struct ToolDefinition: Sendable {
    public var name: String
    public var title: String
    public var description: String
    public var inputSchema: JSON
    public var outputSchema: JSON
    public var annotations: ToolAnnotations
    /// Whether the tool starts or follows a long-running job (it may then run as an MCP task).
    public var startsJob: Bool

    public init(name: String, title: String, description: String, inputSchema: JSON, outputSchema: JSON,
                annotations: ToolAnnotations, startsJob: Bool = false) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
        self.startsJob = startsJob
    }

    public var json: JSON {
        var o: JSON = [
            "name": .string(name), "title": .string(title), "description": .string(description),
            "inputSchema": inputSchema, "outputSchema": outputSchema,
        ]
        var annotations = self.annotations.json
        annotations["title"] = .string(title)
        o["annotations"] = annotations
        return o
    }
}

/// A tool's failure: bad arguments, a refused operation, or a provider's error. It reaches the agent as a
/// result with `isError: true` and this message, which says what to do about it.
public struct ToolFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var details: JSON?

    public init(_ message: String, details: JSON? = nil) {
        self.message = message
        self.details = details
    }

    public var description: String { message }
}

/// The tools a server offers.
public protocol ToolCatalog: Sendable {
    var definitions: [ToolDefinition] { get }

    /// Runs a tool whose arguments have already been validated against its input schema.
    /// - Returns: the structured content, which matches the tool's output schema.
    func call(_ name: String, arguments: JSON, context: ToolCallContext) async throws(ToolFailure) -> JSON
}

/// What a running tool can use of the request that called it.
public struct ToolCallContext: Sendable {
    /// Present when the request carried a progress token.
    public let progress: ProgressReporter?

    public init(progress: ProgressReporter?) { self.progress = progress }

    public static let none = ToolCallContext(progress: nil)
}
