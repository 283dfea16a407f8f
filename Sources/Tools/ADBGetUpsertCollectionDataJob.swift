import AnalyticDB
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let adbpgGetUpsertCollectionDataJob = Tool(
        name: "adbpg_get_upsert_collection_data_job",
        title: "AnalyticDB: get a vector upload job",
        description: """
            Asks AnalyticDB for the progress and result of an async vector upload (GetUpsertCollectionDataJob). \
            job_id is our job handle (job_…) or the provider's JobId. Returns the handle (state, progress in rows, \
            error) and the provider's Job object as it answered. The docs advise polling every 5 seconds.
            """,
        input: [
            "properties": Schema.collectionTarget([
                ("job_id", Schema.string("The job handle (job_…) or the provider's JobId from UpsertCollectionDataAsync.")),
            ]),
            "required": ["collection", "job_id"],
        ],
        output: [
            "properties": ["job": Schema.job, "remote_job": Schema.remoteUpsertJob],
            "required": ["job", "remote_job"],
        ],
        annotations: .readOnly
    ) { arguments, _, environment throws(ToolFailure) in
        let args = try decode(JobTargetArguments.self, from: arguments)
        let record = try args.resolve(environment)
        do {
            let (job, remote) = try await environment.jobs.fetchRemote(record.id, password: args.namespace_password)
            guard remote != .null else {
                throw ToolFailure("job \(job.id) has not reached the provider yet (it is \(job.state.rawValue)); use job_get or job_wait",
                                  details: ["job": job.json])
            }
            return ["job": job.json, "remote_job": remote]
        } catch {
            throw toolFailure(error)
        }
    }
}

/// The arguments shared by the tools that name an AnalyticDB job within a collection.
struct JobTargetArguments: Decodable {
    var profile: String?
    var collection: String
    var namespace: String?
    var namespace_password: String?
    var job_id: String

    /// Our handle for the job: the named one, or one made for a provider job id.
    func resolve(_ environment: ToolEnvironment, kind: String = JobManager.upsertKind) throws(ToolFailure) -> JobRecord {
        let profile = try environment.profile(self.profile, .adbpg)
        if job_id.hasPrefix("job_") {
            let record: JobRecord
            do { record = try environment.jobs.get(job_id) } catch { throw toolFailure(error) }
            guard record.kind == kind else {
                throw ToolFailure("job \(job_id) is a \(record.kind) job; use the tools for that kind, or job_get")
            }
            guard record.profile == profile.name, record.collection == collection else {
                throw ToolFailure("job \(job_id) belongs to collection \"\(record.collection)\" of profile \"\(record.profile)\", not \"\(collection)\" of \"\(profile.name)\"")
            }
            environment.jobs.rememberPassword(namespace_password, for: record.id)
            return record
        }
        if namespace_password == nil && profile.namespaces[namespace ?? "public"] == nil {
            throw ToolFailure("no password for namespace \"\(namespace ?? "public")\": pass namespace_password or set it in profile \"\(profile.name)\"")
        }
        do {
            let record = try environment.jobs.adopt(profile: profile, collection: collection, namespace: namespace, remoteJobID: job_id, kind: kind)
            environment.jobs.rememberPassword(namespace_password, for: record.id)
            return record
        } catch {
            throw toolFailure(error)
        }
    }
}
