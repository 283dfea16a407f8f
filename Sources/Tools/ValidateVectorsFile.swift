import AnalyticDB
import Foundation
import JSON
import MCP

extension Tool {
    static let validateVectorsFile = Tool(
        name: "validate_vectors_file",
        title: "Validate a vectors file",
        description: """
            Checks a local JSONL vectors file without uploading it: each line {"Id": "…", "Metadata": {…}, \
            "Vector": [numbers]}, one dimension throughout, at most 200 MB. Returns the row count, the dimension and \
            the first errors with their line numbers.
            """,
        input: [
            "properties": [
                "file_path": Schema.string("The local file, inside the profiles file's files.allowed_roots."),
                "max_errors": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 10],
            ],
            "required": ["file_path"],
        ],
        output: [
            "properties": [
                "file_path": ["type": "string"], "valid": ["type": "boolean"], "rows": ["type": "integer"],
                "dimension": ["type": ["integer", "null"]], "bytes": ["type": "integer"],
                "errors": ["type": "array", "items": ["type": "object", "required": ["line", "message"],
                                                       "properties": ["line": ["type": "integer"], "message": ["type": "string"]]]],
                "more_errors": ["type": "integer", "description": "Errors found beyond the ones listed."],
            ],
            "required": ["file_path", "valid", "rows", "dimension", "bytes", "errors", "more_errors"],
        ],
        annotations: .local
    ) { arguments, _, environment throws(ToolFailure) in
        struct Arguments: Decodable { var file_path: String; var max_errors: Int? }
        let args = try decode(Arguments.self, from: arguments)
        let real = try FileAccess.check(args.file_path, environment: environment)
        let report: VectorsReport
        do { report = try VectorsValidator.validate(path: real, maxFaults: args.max_errors ?? 10) } catch {
            throw ToolFailure("cannot read \(args.file_path): \(error.localizedDescription)")
        }
        return [
            "file_path": .string(real), "valid": .bool(report.isValid), "rows": JSON(report.rows),
            "dimension": report.dimension.map(JSON.init) ?? .null, "bytes": .int(report.bytes),
            "errors": .array(report.faults.map { ["line": JSON($0.line), "message": .string($0.message)] }),
            "more_errors": JSON(report.moreFaults),
        ]
    }
}
