import AnalyticDB
import Foundation
import Store
import VikingDB
import JSON
import Jobs
import MCP
import Profiles

/// One tool: its definition and its handler, declared side by side in one file per tool.
public struct Tool: Sendable {
    public let definition: ToolDefinition
    let handler: @Sendable (JSON, ToolCallContext, ToolEnvironment) async throws(ToolFailure) -> JSON

    init(name: String, title: String, description: String, input: JSON, output: JSON, annotations: ToolAnnotations,
         startsJob: Bool = false,
         handler: @escaping @Sendable (JSON, ToolCallContext, ToolEnvironment) async throws(ToolFailure) -> JSON) {
        definition = ToolDefinition(name: name, title: title, description: description, inputSchema: Schema.object(input),
                                    outputSchema: Schema.object(output), annotations: annotations, startsJob: startsJob)
        self.handler = handler
    }
}

/// What tools work with: the profiles, the jobs, and the providers' clients.
public struct ToolEnvironment: Sendable {
    public let profiles: ProfilesConfig
    public let jobs: JobManager
    public let adbpgClient: @Sendable (Profile) -> AnalyticDBClient
    public let vikingClient: @Sendable (Profile) -> VikingDBClient
    public let workingDirectory: String
    /// Downloads a URL into a file (for bulk jobs that read a file_url).
    public let download: @Sendable (_ url: String, _ destination: String) async throws -> Void
    /// Where downloads are kept.
    public let downloadDirectory: String

    public init(profiles: ProfilesConfig, jobs: JobManager, adbpgClient: @escaping @Sendable (Profile) -> AnalyticDBClient,
                vikingClient: @escaping @Sendable (Profile) -> VikingDBClient,
                download: @escaping @Sendable (String, String) async throws -> Void,
                downloadDirectory: String, workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.profiles = profiles
        self.jobs = jobs
        self.adbpgClient = adbpgClient
        self.vikingClient = vikingClient
        self.download = download
        self.downloadDirectory = downloadDirectory
        self.workingDirectory = workingDirectory
    }

    /// The client and call target for a call naming a collection (the password from the call, else the profile).
    func adbpgTarget(profile name: String?, collection: String, namespace: String?,
                     password: String?) throws(ToolFailure) -> (AnalyticDBClient, AnalyticDBClient.Target) {
        let profile = try self.profile(name, .adbpg)
        guard let password = password ?? profile.namespaces[namespace ?? "public"] else {
            throw ToolFailure("no password for namespace \"\(namespace ?? "public")\": pass namespace_password or set namespaces.\(namespace ?? "public").password in profile \"\(profile.name)\"")
        }
        return (adbpgClient(profile), AnalyticDBClient.Target(collection: collection, namespace: namespace, password: password))
    }

    func profile(_ name: String?, _ provider: Provider) throws(ToolFailure) -> Profile {
        do { return try profiles.profile(named: name, provider: provider) } catch { throw ToolFailure(error.description) }
    }
}

/// Decodes validated arguments into a tool's `Arguments` struct.
func decode<T: Decodable>(_ type: T.Type, from arguments: JSON) throws(ToolFailure) -> T {
    do { return try arguments.decode(T.self) } catch { throw ToolFailure("cannot read the arguments: \(error)") }
}

extension JobError {
    var failure: ToolFailure {
        ToolFailure(message, details: record.map { ["job": $0.json] })
    }
}

/// Any error of a job operation as a tool failure (job errors keep their job for the agent to see).
func toolFailure(_ error: any Error) -> ToolFailure {
    if let error = error as? JobError { return error.failure }
    if let error = error as? ToolFailure { return error }
    return ToolFailure(String(describing: error))
}

extension ToolEnvironment {
    /// Submits a freshly recorded job when its queue lets it, forwarding the upload's progress to the caller.
    func submit(_ record: JobRecord, context: ToolCallContext) async throws(ToolFailure) -> JobRecord {
        let progress = context.progress
        do {
            return try await jobs.runIfHead(record.id) { done, total, message in
                progress?.report(done, total: total, message: message)
            }
        } catch {
            let failure = toolFailure(error)
            throw ToolFailure("the upload failed: \(failure.message)", details: failure.details)
        }
    }
}
