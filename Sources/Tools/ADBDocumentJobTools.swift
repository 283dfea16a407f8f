import AnalyticDB
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let adbpgGetUploadDocumentJob = Tool(
        name: "adbpg_get_upload_document_job",
        title: "AnalyticDB: get a document upload job",
        description: """
            Asks AnalyticDB about a document upload (GetUploadDocumentJob): status, progress in percent, error and \
            ErrorCode, the chunk files (ChunkResult: a JSONL file of page_content/metadata and a plain-text file) and \
            the embedding usage (tokens, entries). job_id is our handle (job_…) or the provider's JobId.
            """,
        input: [
            "properties": Schema.collectionTarget([("job_id", Schema.string("The job handle (job_…) or the provider's JobId."))]),
            "required": ["collection", "job_id"],
        ],
        output: [
            "properties": [
                "job": Schema.job,
                "remote_job": [
                    "type": "object",
                    "properties": [
                        "Id": ["type": "string"], "Status": ["type": "string"], "Completed": ["type": "boolean"],
                        "Progress": ["type": "integer", "description": "Percent done."], "Error": ["type": "string"],
                        "ErrorCode": ["type": "string"], "CreateTime": ["type": "string"], "UpdateTime": ["type": "string"],
                    ],
                ],
                "chunk_result": ["type": ["object", "null"], "properties": ["ChunkFileUrl": ["type": "string"], "PlainChunkFileUrl": ["type": "string"]]],
                "usage": ["type": ["object", "null"], "properties": ["EmbeddingTokens": ["type": "integer"], "EmbeddingEntries": ["type": "integer"]]],
            ],
            "required": ["job", "remote_job", "chunk_result", "usage"],
        ],
        annotations: .readOnly
    ) { arguments, _, environment throws(ToolFailure) in
        let args = try decode(JobTargetArguments.self, from: arguments)
        let record = try args.resolve(environment, kind: JobManager.documentKind)
        do {
            let (job, remote) = try await environment.jobs.fetchRemote(record.id, password: args.namespace_password)
            guard remote != .null else {
                throw ToolFailure("job \(job.id) has not reached the provider yet (it is \(job.state.rawValue)); use job_get or job_wait",
                                  details: ["job": job.json])
            }
            return ["job": job.json, "remote_job": remote["Job"] ?? [:], "chunk_result": remote["ChunkResult"] ?? .null,
                    "usage": remote["Usage"] ?? .null]
        } catch {
            throw toolFailure(error)
        }
    }

    static let adbpgCancelUploadDocumentJob = Tool(
        name: "adbpg_cancel_upload_document_job",
        title: "AnalyticDB: cancel a document upload job",
        description: """
            Cancels a document upload (CancelUploadDocumentJob). A job that already finished, failed or was cancelled \
            cannot be cancelled. Cancelling leaves chunks already written in place.
            """,
        input: [
            "properties": Schema.collectionTarget([("job_id", Schema.string("The job handle (job_…) or the provider's JobId."))]),
            "required": ["collection", "job_id"],
        ],
        output: ["properties": ["job": Schema.job, "note": ["type": "string"]], "required": ["job", "note"]],
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        let args = try decode(JobTargetArguments.self, from: arguments)
        let record = try args.resolve(environment, kind: JobManager.documentKind)
        do {
            let job = try await environment.jobs.cancel(record.id)
            return ["job": job.json, "note": "Cancelling stops the document's processing; chunks already written stay in the collection."]
        } catch {
            throw toolFailure(error)
        }
    }
}
