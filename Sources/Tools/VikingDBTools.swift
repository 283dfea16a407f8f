import Foundation
import JSON
import MCP
import Profiles
import VikingDB

/// What the VikingDB tools share: naming the collection, and checking rows before anything is sent.
struct VikingTarget {
    let profile: Profile
    let client: VikingDBClient
    let target: VikingDBClient.Target
    let config: CollectionConfig?

    init(_ arguments: JSON, _ environment: ToolEnvironment) throws(ToolFailure) {
        let profile = try environment.profile(arguments["profile"]?.stringValue, .vikingdb)
        self.profile = profile
        let name = arguments["collection_name"]?.stringValue
        let resource = arguments["resource_id"]?.stringValue
        guard (name == nil) != (resource == nil) else { throw ToolFailure("give exactly one of collection_name and resource_id") }
        target = name.map(VikingDBClient.Target.name) ?? .resourceID(resource!)
        config = name.flatMap { profile.collections[$0] }
        client = environment.vikingClient(profile)
    }

    /// At most 100 rows (1 when the collection vectorizes), primary keys present and never 0, only known fields.
    func check(_ rows: [JSON], ignoreUnknownFields: Bool = false) throws(ToolFailure) {
        let limit = config?.vectorize == true ? 1 : 100
        guard rows.count <= limit else {
            throw ToolFailure("\(rows.count) rows in one call; \(target.label) takes at most \(limit) per write\(limit == 1 ? " (it vectorizes its data)" : ""). Use the _async tool with a JSONL file for more.")
        }
        let key = config?.primaryKey
        for (i, row) in rows.enumerated() {
            guard let object = row.objectValue else { throw ToolFailure("data[\(i)] must be an object") }
            if let key {
                guard let value = object[key] else { throw ToolFailure("data[\(i)] lacks the primary key \(key)") }
                if value.intValue == 0 || value.stringValue?.isEmpty == true {
                    throw ToolFailure("data[\(i)].\(key): the primary key may not be 0 or empty")
                }
            }
            if let fields = config?.fields, !ignoreUnknownFields {
                for field in object.keys where !fields.contains(field) {
                    throw ToolFailure("data[\(i)] has the unknown field \"\(field)\"; \(target.label) has \(fields.joined(separator: ", "))")
                }
            }
        }
    }
}

extension Tool {
    static let vikingTargetProperties: [(String, JSON)] = [
        ("profile", Schema.profile),
        ("collection_name", Schema.string("The collection's name (or give resource_id).")),
        ("resource_id", Schema.string("The collection's resource id (or give collection_name).")),
    ]

    static func vikingInput(_ own: [(String, JSON)], required: [String]) -> JSON {
        ["properties": .object(JSONObject(vikingTargetProperties + own)), "required": .array(required.map(JSON.string))]
    }

    static let vikingRows: JSON = ["type": "array", "minItems": 1, "maxItems": 100, "items": ["type": "object"],
                                   "description": "Rows: objects of field names to values, each with the primary key (at most 100; 1 when the collection vectorizes)."]
    static let vikingTTL: JSON = ["type": "integer", "minimum": 0, "description": "Seconds until the rows expire; 0 (default) never."]
    static let vikingWriteOutput: JSON = [
        "properties": ["rows": ["type": "integer"], "request_id": ["type": ["string", "null"]], "token_usage": ["type": ["object", "null"]]],
        "required": ["rows", "request_id"],
    ]

    static func vikingWriteResult(_ rows: Int, _ envelope: JSON) -> JSON {
        ["rows": JSON(rows), "request_id": JSON(envelope["request_id"]?.stringValue), "token_usage": envelope["result"]?["token_usage"] ?? .null]
    }

    static let vikingdbUpsertData = Tool(
        name: "vikingdb_upsert_data",
        title: "VikingDB: upsert rows",
        description: "Writes rows to a VikingDB collection (data/upsert): whole rows, replacing any with the same primary key. At most 100 rows (1 when the collection vectorizes); for more, use vikingdb_upsert_data_async with a JSONL file.",
        input: vikingInput([("data", vikingRows), ("ttl", vikingTTL),
                            ("async", ["type": "boolean", "description": "Let the service index the rows later (higher throughput)."]),
                            ("ignore_unknown_fields", ["type": "boolean", "description": "Drop fields the collection does not have instead of failing."])],
                           required: ["data"]),
        output: vikingWriteOutput,
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        let viking = try VikingTarget(arguments, environment)
        let rows = arguments["data"]?.arrayValue ?? []
        let ignore = arguments["ignore_unknown_fields"]?.boolValue ?? false
        try viking.check(rows, ignoreUnknownFields: ignore)
        do {
            let envelope = try await viking.client.upsert(viking.target, data: rows, ttl: arguments["ttl"]?.intValue,
                                                          async: arguments["async"]?.boolValue, ignoreUnknownFields: arguments["ignore_unknown_fields"]?.boolValue)
            return vikingWriteResult(rows.count, envelope)
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }

    static let vikingdbUpdateData = Tool(
        name: "vikingdb_update_data",
        title: "VikingDB: update fields of rows",
        description: "Changes some fields of existing rows (data/update): each row gives the primary key and only the fields to change. At most 100 rows (1 when the collection vectorizes); for more, use vikingdb_update_data_async.",
        input: vikingInput([("data", vikingRows), ("ttl", vikingTTL)], required: ["data"]),
        output: vikingWriteOutput,
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        let viking = try VikingTarget(arguments, environment)
        let rows = arguments["data"]?.arrayValue ?? []
        try viking.check(rows)
        do {
            let envelope = try await viking.client.update(viking.target, data: rows, ttl: arguments["ttl"]?.intValue)
            return vikingWriteResult(rows.count, envelope)
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }

    static let vikingdbDeleteData = Tool(
        name: "vikingdb_delete_data",
        title: "VikingDB: delete rows",
        description: "Deletes rows by primary key (ids, at most 100), or every row of the collection (del_all: true). Irreversible.",
        input: vikingInput([("ids", ["type": "array", "minItems": 1, "maxItems": 100, "items": ["type": ["string", "integer"]]]),
                            ("del_all", ["type": "boolean", "description": "Delete every row of the collection."])], required: []),
        output: ["properties": ["request_id": ["type": ["string", "null"]], "deleted": ["type": ["integer", "null"]]], "required": ["request_id"]],
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        let viking = try VikingTarget(arguments, environment)
        let ids = arguments["ids"]?.arrayValue
        let all = arguments["del_all"]?.boolValue ?? false
        guard (ids != nil) != all else { throw ToolFailure("give ids, or del_all: true (not both); nothing was deleted") }
        if let ids, ids.contains(where: { $0.intValue == 0 && $0.stringValue == nil }) { throw ToolFailure("ids: a primary key is never 0") }
        do {
            let envelope = try await viking.client.delete(viking.target, ids: ids, deleteAll: all)
            return ["request_id": JSON(envelope["request_id"]?.stringValue), "deleted": ids.map { JSON($0.count) } ?? .null]
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }

    static let vikingdbFetchData = Tool(
        name: "vikingdb_fetch_data",
        title: "VikingDB: fetch rows",
        description: "Reads rows by primary key (data/fetch_in_collection, at most 100 ids); ids that do not exist are listed apart.",
        input: vikingInput([("ids", ["type": "array", "minItems": 1, "maxItems": 100, "items": ["type": ["string", "integer"]]])], required: ["ids"]),
        output: ["properties": ["fetch": ["type": "array", "items": ["type": "object"]], "ids_not_exist": ["type": "array"],
                                "request_id": ["type": ["string", "null"]]],
                 "required": ["fetch", "ids_not_exist", "request_id"]],
        annotations: .readOnly
    ) { arguments, _, environment throws(ToolFailure) in
        let viking = try VikingTarget(arguments, environment)
        do {
            let envelope = try await viking.client.fetch(viking.target, ids: arguments["ids"]?.arrayValue ?? [])
            return ["fetch": envelope["result"]?["fetch"] ?? [], "ids_not_exist": envelope["result"]?["ids_not_exist"] ?? [],
                    "request_id": JSON(envelope["request_id"]?.stringValue)]
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }
}
