import Foundation
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let jobGet = Tool(
        name: "job_get",
        title: "Get a job",
        description: "Returns a job handle's current state, progress and error, refreshed from the provider when due. Works on any job, also one started by another process.",
        input: ["properties": ["job_id": Schema.jobID], "required": ["job_id"]],
        output: ["properties": ["job": Schema.job], "required": ["job"]],
        annotations: .readOnly
    ) { arguments, _, environment throws(ToolFailure) in
        struct Arguments: Decodable { var job_id: String }
        let args = try decode(Arguments.self, from: arguments)
        do {
            let record = try environment.jobs.get(args.job_id)
            let fresh = (try? await environment.jobs.refresh(args.job_id, maxAge: .seconds(1))) ?? record
            return ["job": fresh.json]
        } catch {
            throw toolFailure(error)
        }
    }

    static let jobWait = Tool(
        name: "job_wait",
        title: "Wait for a job",
        description: """
            Waits until a job ends or timeout_seconds pass (default 45, at most 600), sending progress notifications \
            when the request carries a progressToken. When the bound is hit it returns the current state with \
            timed_out: true (not an error): call it again to keep waiting.
            """,
        input: [
            "properties": [
                "job_id": Schema.jobID,
                "timeout_seconds": ["type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 45,
                                    "description": "How long to wait at most, in seconds (default 45: some clients cut calls off after 60 s)."],
            ],
            "required": ["job_id"],
        ],
        output: [
            "properties": ["job": Schema.job, "timed_out": ["type": "boolean"], "waited_seconds": ["type": "number"]],
            "required": ["job", "timed_out", "waited_seconds"],
        ],
        annotations: .readOnly
    ) { arguments, context, environment throws(ToolFailure) in
        struct Arguments: Decodable { var job_id: String; var timeout_seconds: Double? }
        let args = try decode(Arguments.self, from: arguments)
        let started = ContinuousClock.now
        let progress = context.progress
        do {
            let (record, timedOut) = try await environment.jobs.wait(
                args.job_id, timeout: .milliseconds(Int64((args.timeout_seconds ?? 45) * 1000))
            ) { record in
                guard let progress else { return }
                let total = record.progressTotal.map(Double.init)
                var message = "\(record.state.rawValue)"
                if let status = record.providerStatus { message += " (\(status))" }
                message += ": \(record.progressDone)" + (record.progressTotal.map { " of \($0)" } ?? "") + " \(record.progressUnit)"
                progress.report(Double(record.progressDone), total: total, message: message)
            }
            let waited = ContinuousClock.now - started
            let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
            return ["job": record.json, "timed_out": .bool(timedOut), "waited_seconds": .double((seconds * 1000).rounded() / 1000)]
        } catch {
            throw toolFailure(error)
        }
    }

    static let jobCancel = Tool(
        name: "job_cancel",
        title: "Cancel a job",
        description: "Cancels a job: a queued job never reaches the provider; a running one is cancelled there (state cancelling, then cancelled). A job that has ended cannot be cancelled. \(Tool.cancelNote)",
        input: ["properties": ["job_id": Schema.jobID], "required": ["job_id"]],
        output: ["properties": ["job": Schema.job, "note": ["type": "string"]], "required": ["job", "note"]],
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        struct Arguments: Decodable { var job_id: String }
        let args = try decode(Arguments.self, from: arguments)
        do {
            let record = try await environment.jobs.cancel(args.job_id)
            return ["job": record.json, "note": .string(cancelNote)]
        } catch {
            throw toolFailure(error)
        }
    }

    static let jobsList = Tool(
        name: "jobs_list",
        title: "List jobs",
        description: "Lists job handles, newest first, with optional filters; pass next_cursor back as cursor for the next page.",
        input: [
            "properties": [
                "state": ["type": "array", "items": ["type": "string", "enum": .array(JobState.allCases.map { .string($0.rawValue) })],
                          "uniqueItems": true, "description": "Only jobs in these states."],
                "profile": Schema.string("Only jobs of this profile."),
                "collection": Schema.string("Only jobs of this collection."),
                "kind": Schema.string("Only jobs of this kind, such as adbpg.upsert_collection_data."),
                "limit": ["type": "integer", "minimum": 1, "maximum": 100, "default": 20],
                "cursor": Schema.string("next_cursor from the previous page."),
            ],
        ],
        output: [
            "properties": ["jobs": ["type": "array", "items": Schema.job], "next_cursor": ["type": ["string", "null"]]],
            "required": ["jobs", "next_cursor"],
        ],
        annotations: .local
    ) { arguments, _, environment throws(ToolFailure) in
        struct Arguments: Decodable {
            var state: [String]?
            var profile: String?
            var collection: String?
            var kind: String?
            var limit: Int?
            var cursor: String?
        }
        let args = try decode(Arguments.self, from: arguments)
        var filter = JobStore.Filter()
        filter.states = (args.state ?? []).compactMap(JobState.init)
        filter.profile = args.profile
        filter.collection = args.collection
        filter.kind = args.kind
        do {
            let page = try environment.jobs.list(filter, limit: args.limit ?? 20, cursor: args.cursor)
            return ["jobs": .array(page.jobs.map(\.json)), "next_cursor": JSON(page.nextCursor)]
        } catch {
            throw toolFailure(error)
        }
    }
}
