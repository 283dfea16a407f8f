import JSON
import Jobs
import Store

/// Building blocks for tool schemas (JSON Schema 2020-12).
enum Schema {
    static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// An object schema from `{"properties": …, "required": …}` parts, closed to unknown properties.
    static func object(_ parts: JSON) -> JSON {
        var schema: JSON = ["$schema": .string(dialect), "type": "object"]
        for (key, value) in parts.objectValue ?? JSONObject() { schema[key] = value }
        if schema["properties"] == nil { schema["properties"] = [:] }
        if schema["additionalProperties"] == nil { schema["additionalProperties"] = false }
        return schema
    }

    static func string(_ description: String, minLength: Int = 1) -> JSON {
        ["type": "string", "minLength": JSON(minLength), "description": .string(description)]
    }

    static let profile: JSON = ["type": "string", "minLength": 1,
                                "description": "Profile name from the profiles file (profiles_list shows them); default: the file's default for the provider."]
    static let collection: JSON = string("Collection name (the API's Collection).")
    static let namespace: JSON = string("Namespace (the API's Namespace); default: public.")
    static let namespacePassword: JSON = ["type": "string", "minLength": 1,
        "description": "Namespace password (the API's NamespacePassword); default: the profile's namespaces.<name>.password. Never stored or echoed."]
    static let jobID: JSON = ["type": "string", "minLength": 1, "pattern": "^job_[a-z2-7]{26}$",
                              "description": "A job handle id (job_…), as returned by the tool that started the job."]

    /// The properties every AnalyticDB tool that names a collection takes, followed by its own.
    static func collectionTarget(_ own: [(String, JSON)]) -> JSON {
        var properties = JSONObject([("profile", profile), ("collection", collection), ("namespace", namespace),
                                     ("namespace_password", namespacePassword)])
        for (key, value) in own { properties[key] = value }
        return .object(properties)
    }

    static let job: JSON = JobRecord.schema
    static let nullableJob: JSON = ["anyOf": [JobRecord.schema, ["type": "null"]]]

    /// The `Job` object of GetUpsertCollectionDataJob, as the API returns it.
    static let remoteUpsertJob: JSON = [
        "type": "object",
        "properties": [
            "Id": ["type": "string"], "Status": ["type": "string"], "Completed": ["type": "boolean"],
            "Progress": ["type": "integer", "description": "Rows written so far."],
            "Error": ["type": "string"], "CreateTime": ["type": "string"], "UpdateTime": ["type": "string"],
        ],
    ]
}
