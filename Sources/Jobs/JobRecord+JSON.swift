import Foundation
import JSON
import Store

extension JobRecord {
    /// The job as tools return it (no secrets are stored, so none can appear here).
    public var json: JSON {
        var progress: JSON = ["done": .int(progressDone), "total": progressTotal.map(JSON.int) ?? .null, "unit": .string(progressUnit)]
        if let total = progressTotal, total > 0 {
            progress["percent"] = .double((Double(progressDone) / Double(total) * 1000).rounded() / 10)
        }
        return [
            "job_id": .string(id), "state": .string(state.rawValue), "provider": .string(provider), "profile": .string(profile),
            "kind": .string(kind), "collection": .string(collection), "namespace": JSON(namespace),
            "remote_job_id": JSON(remoteJobID), "provider_status": JSON(providerStatus), "progress": progress,
            "error": JSON(error), "created_at": .string(Self.iso(createdAt)), "updated_at": .string(Self.iso(updatedAt)),
        ]
    }

    static func iso(_ t: Double) -> String {
        ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: t), timeZone: .gmt,
                                    formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    /// The JSON Schema of `json`.
    public static let schema: JSON = [
        "type": "object",
        "required": ["job_id", "state", "provider", "profile", "kind", "collection", "remote_job_id", "provider_status", "progress",
                     "error", "created_at", "updated_at"],
        "properties": [
            "job_id": ["type": "string", "description": "The job handle: pass it to job_get, job_wait and job_cancel."],
            "state": ["type": "string", "enum": .array(JobState.allCases.map { .string($0.rawValue) })],
            "provider": ["type": "string"],
            "profile": ["type": "string"],
            "kind": ["type": "string"],
            "collection": ["type": "string"],
            "namespace": ["type": ["string", "null"]],
            "remote_job_id": ["type": ["string", "null"], "description": "The provider's own job id, once submitted."],
            "provider_status": ["type": ["string", "null"], "description": "The provider's status word, as it reported it."],
            "progress": [
                "type": "object",
                "required": ["done", "total", "unit"],
                "properties": [
                    "done": ["type": "integer", "minimum": 0],
                    "total": ["type": ["integer", "null"]],
                    "unit": ["type": "string", "enum": ["rows", "percent", "bytes"]],
                    "percent": ["type": "number"],
                ],
            ],
            "error": ["type": ["string", "null"]],
            "created_at": ["type": "string", "format": "date-time"],
            "updated_at": ["type": "string", "format": "date-time"],
        ],
    ]
}
