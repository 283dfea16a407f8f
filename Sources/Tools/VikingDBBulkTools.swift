import Foundation
import JSON
import Jobs
import MCP
import Store
import VikingDB

extension Tool {
    static func vikingBulk(kind: String, name: String, title: String, description: String, upsert: Bool) -> Tool {
        var own: [(String, JSON)] = [
            ("file_path", Schema.string("A local JSONL file of rows (one JSON object per line), inside files.allowed_roots.")),
            ("file_url", ["type": "string", "pattern": "^https?://", "description": "An http(s) URL of such a file; it is downloaded first."]),
            ("ttl", vikingTTL),
            ("skip_invalid_rows", ["type": "boolean", "description": "Skip rows the service rejects as invalid (the job then reports how many, and the first lines) instead of failing."]),
        ]
        if upsert { own.append(("ignore_unknown_fields", ["type": "boolean", "description": "Drop fields the collection does not have."])) }
        return Tool(
            name: name, title: title, description: description,
            input: vikingInput(own, required: []),
            output: ["properties": ["job": Schema.job], "required": ["job"]],
            annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: true, openWorld: true),
            startsJob: true
        ) { arguments, _, environment throws(ToolFailure) in
            let viking = try VikingTarget(arguments, environment)
            let filePath = arguments["file_path"]?.stringValue
            let fileURL = arguments["file_url"]?.stringValue
            guard (filePath == nil) != (fileURL == nil) else { throw ToolFailure("give exactly one of file_path and file_url") }
            let path: String
            if let filePath {
                path = try FileAccess.check(filePath, environment: environment)
            } else {
                try? FileManager.default.createDirectory(atPath: environment.downloadDirectory, withIntermediateDirectories: true)
                path = (environment.downloadDirectory as NSString).appendingPathComponent("\(UUID().uuidString).jsonl")
                do { try await environment.download(fileURL!, path) } catch { throw ToolFailure("cannot download \(fileURL!): \(error)") }
            }
            let lines = try countRows(path)
            guard lines > 0 else { throw ToolFailure("the file holds no rows") }
            do {
                let record = try environment.jobs.createBulkJob(profile: viking.profile, kind: kind, target: viking.target, filePath: path,
                                                                lines: lines, ttl: arguments["ttl"]?.intValue,
                                                                skipInvalidRows: arguments["skip_invalid_rows"]?.boolValue ?? false,
                                                                ignoreUnknownFields: arguments["ignore_unknown_fields"]?.boolValue)
                return ["job": try await environment.jobs.runIfHead(record.id).json]
            } catch {
                throw toolFailure(error)
            }
        }
    }

    /// Non-blank lines of a file.
    static func countRows(_ path: String) throws(ToolFailure) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ToolFailure("cannot read \(path)") }
        defer { try? handle.close() }
        var count = 0
        var lineHasText = false
        while true {
            let data = handle.readData(ofLength: 1 << 20)
            if data.isEmpty { break }
            for byte in data {
                if byte == 0x0A { if lineHasText { count += 1 }; lineHasText = false } else if byte != 0x20 && byte != 0x0D && byte != 0x09 { lineHasText = true }
            }
        }
        return count + (lineHasText ? 1 : 0)
    }

    static let vikingdbUpsertDataAsync = vikingBulk(
        kind: JobManager.vikingUpsertKind, name: "vikingdb_upsert_data_async", title: "VikingDB: bulk upsert from a file",
        description: """
            Upserts every row of a JSONL file into a VikingDB collection as a job (the API has no bulk mode: the server \
            sends batches of up to 100 rows, 1 when the collection vectorizes, with bounded concurrency under the \
            profile's rows-per-second limit, retrying throttling and server faults). Progress is in rows; the job \
            checkpoints after each acknowledged batch and resumes after a crash when a server next starts on the same \
            state directory. Returns a job handle at once. Jobs to one collection run one at a time.
            """, upsert: true)

    static let vikingdbUpdateDataAsync = vikingBulk(
        kind: JobManager.vikingUpdateKind, name: "vikingdb_update_data_async", title: "VikingDB: bulk update from a file",
        description: """
            Applies every row of a JSONL file (the primary key plus the fields to change) to a VikingDB collection as a \
            job, in batches like vikingdb_upsert_data_async, with checkpoints and resume. Returns a job handle at once.
            """, upsert: false)
}
