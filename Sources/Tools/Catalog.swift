import JSON
import MCP

/// Every tool the server offers, in the order `tools/list` shows them.
public struct Catalog: ToolCatalog {
    public static let tools: [Tool] = [
        .adbpgUpsertCollectionDataAsync,
        .adbpgGetUpsertCollectionDataJob,
        .adbpgCancelUpsertCollectionDataJob,
        .adbpgUploadDocumentAsync,
        .adbpgGetUploadDocumentJob,
        .adbpgCancelUploadDocumentJob,
        .adbpgUpsertCollectionData,
        .adbpgDeleteCollectionData,
        .vikingdbUpsertData,
        .vikingdbUpdateData,
        .vikingdbDeleteData,
        .vikingdbFetchData,
        .vikingdbUpsertDataAsync,
        .vikingdbUpdateDataAsync,
        .jobGet,
        .jobWait,
        .jobCancel,
        .jobsList,
        .profilesList,
        .validateVectorsFile,
    ]

    public let environment: ToolEnvironment
    private let byName: [String: Tool]

    public init(environment: ToolEnvironment) {
        self.environment = environment
        byName = Dictionary(uniqueKeysWithValues: Self.tools.map { ($0.definition.name, $0) })
    }

    public static var definitions: [ToolDefinition] { tools.map(\.definition) }
    public var definitions: [ToolDefinition] { Self.definitions }

    public func call(_ name: String, arguments: JSON, context: ToolCallContext) async throws(ToolFailure) -> JSON {
        guard let tool = byName[name] else { throw ToolFailure("unknown tool \(name)") }
        return try await tool.handler(arguments, context, environment)
    }
}
