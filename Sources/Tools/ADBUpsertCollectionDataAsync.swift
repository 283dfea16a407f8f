import AnalyticDB
import Foundation
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let adbpgUpsertCollectionDataAsync = Tool(
        name: "adbpg_upsert_collection_data_async",
        title: "AnalyticDB: upload vectors (async)",
        description: """
            Uploads a JSONL file of vectors to an AnalyticDB for PostgreSQL collection as an asynchronous job \
            (UpsertCollectionDataAsync), from a URL (file_url) or a local file (file_path, streamed through OSS). \
            Each line: {"Id": "…", "Metadata": {…}, "Vector": [numbers]}, one dimension throughout, up to 200 MB. \
            A local file is validated first: a bad line fails the call before anything is sent. Returns a job handle \
            at once; follow it with job_wait or job_get, stop it with job_cancel. Uploads to one collection run one \
            at a time: a second one waits as queued.
            """,
        input: [
            "properties": Schema.collectionTarget([
                ("file_url", ["type": "string", "pattern": "^https?://", "description": "An http(s) URL the service can read without a password (the API's FileUrl)."]),
                ("file_path", Schema.string("A local JSONL file, inside the profiles file's files.allowed_roots; uploaded through OSS as the SDK's Advance call does.")),
            ]),
            "required": ["collection"],
        ],
        output: [
            "properties": [
                "job": Schema.job,
                "validation": [
                    "type": ["object", "null"],
                    "description": "What validating the local file found (null for file_url).",
                    "properties": ["rows": ["type": "integer"], "dimension": ["type": ["integer", "null"]], "bytes": ["type": "integer"]],
                    "required": ["rows", "dimension", "bytes"],
                ],
            ],
            "required": ["job", "validation"],
        ],
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        startsJob: true
    ) { arguments, context, environment throws(ToolFailure) in
        struct Arguments: Decodable {
            var profile: String?
            var collection: String
            var namespace: String?
            var namespace_password: String?
            var file_url: String?
            var file_path: String?
        }
        let args = try decode(Arguments.self, from: arguments)
        let profile = try environment.profile(args.profile, .adbpg)
        guard (args.file_url == nil) != (args.file_path == nil) else {
            throw ToolFailure("give exactly one of file_url (a URL the service can read) or file_path (a local file)")
        }
        let password = args.namespace_password ?? profile.namespaces[args.namespace ?? "public"]
        guard password != nil else {
            throw ToolFailure("no password for namespace \"\(args.namespace ?? "public")\": pass namespace_password or set namespaces.\(args.namespace ?? "public").password in profile \"\(profile.name)\"")
        }
        let source: JobSource
        var validation: JSON = .null
        if let path = args.file_path {
            let real = try FileAccess.check(path, environment: environment)
            let report: VectorsReport
            do { report = try VectorsValidator.validate(path: real) } catch { throw ToolFailure("cannot read \(path): \(error.localizedDescription)") }
            guard report.isValid else {
                let lines = report.faults.map { "- \($0)" }.joined(separator: "\n")
                let more = report.moreFaults > 0 ? "\n(and \(report.moreFaults) more)" : ""
                throw ToolFailure("\(path) is not a valid vectors file; nothing was uploaded:\n\(lines)\(more)",
                                  details: ["errors": .array(report.faults.map { ["line": JSON($0.line), "message": .string($0.message)] })])
            }
            validation = ["rows": JSON(report.rows), "dimension": report.dimension.map(JSON.init) ?? .null, "bytes": .int(report.bytes)]
            source = .filePath(real, rows: report.rows)
        } else {
            source = .fileURL(args.file_url!)
        }
        let record: JobRecord
        do {
            record = try environment.jobs.createUpsertJob(profile: profile, collection: args.collection, namespace: args.namespace,
                                                          password: args.namespace_password, source: source)
        } catch {
            throw ToolFailure("cannot record the job: \(error)")
        }
        let current = try await environment.submit(record, context: context)
        return ["job": current.json, "validation": validation]
    }
}
