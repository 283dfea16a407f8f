import AnalyticDB
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let cancelNote = "Cancelling stops the import; rows already written stay in the collection."

    static let adbpgCancelUpsertCollectionDataJob = Tool(
        name: "adbpg_cancel_upsert_collection_data_job",
        title: "AnalyticDB: cancel a vector upload job",
        description: """
            Cancels an async vector upload (CancelUpsertCollectionDataJob). job_id is our job handle (job_…) or the \
            provider's JobId. A queued job is dropped before it reaches the provider. A job that already finished, \
            failed or was cancelled cannot be cancelled. \(Tool.cancelNote)
            """,
        input: [
            "properties": Schema.collectionTarget([
                ("job_id", Schema.string("The job handle (job_…) or the provider's JobId.")),
            ]),
            "required": ["collection", "job_id"],
        ],
        output: [
            "properties": ["job": Schema.job, "note": ["type": "string"]],
            "required": ["job", "note"],
        ],
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        let args = try decode(JobTargetArguments.self, from: arguments)
        let record = try args.resolve(environment)
        do {
            let job = try await environment.jobs.cancel(record.id)
            return ["job": job.json, "note": .string(cancelNote)]
        } catch {
            throw toolFailure(error)
        }
    }
}
