import AnalyticDB
import JSON
import MCP

extension Tool {
    static let rowSchema: JSON = [
        "type": "object",
        "required": ["Id", "Vector"],
        "additionalProperties": false,
        "properties": [
            "Id": ["type": "string", "minLength": 1, "description": "The row's id: a row with the same id is replaced."],
            "Metadata": ["type": "object", "additionalProperties": ["type": "string"], "description": "Field values, all strings."],
            "Vector": ["type": "array", "minItems": 1, "items": ["type": "number"]],
            "SparseVector": [
                "type": "object", "required": ["Indices", "Values"], "additionalProperties": false,
                "properties": ["Indices": ["type": "array", "items": ["type": "integer", "minimum": 0]], "Values": ["type": "array", "items": ["type": "number"]]],
            ],
        ],
    ]

    static let adbpgUpsertCollectionData = Tool(
        name: "adbpg_upsert_collection_data",
        title: "AnalyticDB: upsert rows",
        description: """
            Writes rows to a collection at once (UpsertCollectionData): each {"Id", "Metadata" (string values), \
            "Vector", optional "SparseVector" {"Indices", "Values"}}, one dimension throughout. The request may be at \
            most 10 MB; for more, write a JSONL file and use adbpg_upsert_collection_data_async. Rows with an existing \
            Id are replaced.
            """,
        input: [
            "properties": Schema.collectionTarget([("rows", ["type": "array", "minItems": 1, "items": Tool.rowSchema])]),
            "required": ["collection", "rows"],
        ],
        output: [
            "properties": ["rows": ["type": "integer"], "request_id": ["type": ["string", "null"]], "status": ["type": ["string", "null"]],
                           "message": ["type": ["string", "null"]]],
            "required": ["rows", "request_id"],
        ],
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        guard let collection = arguments["collection"]?.stringValue, let rows = arguments["rows"]?.arrayValue else {
            throw ToolFailure("collection and rows are required")
        }
        var dimension: Int?
        for (i, row) in rows.enumerated() {
            let vector = row["Vector"]?.arrayValue ?? []
            if let dimension, dimension != vector.count {
                throw ToolFailure("rows[\(i)].Vector has \(vector.count) dimensions, rows[0] has \(dimension): a collection has one dimension")
            }
            dimension = vector.count
            if let sparse = row["SparseVector"], sparse["Indices"]?.arrayValue?.count != sparse["Values"]?.arrayValue?.count {
                throw ToolFailure("rows[\(i)].SparseVector needs as many Values as Indices")
            }
        }
        let (client, target) = try environment.adbpgTarget(profile: arguments["profile"]?.stringValue, collection: collection,
                                                           namespace: arguments["namespace"]?.stringValue,
                                                           password: arguments["namespace_password"]?.stringValue)
        do {
            let body = try await client.upsertCollectionData(target, rows: AnalyticDBClient.sdkRows(rows))
            return ["rows": JSON(rows.count), "request_id": JSON(body["RequestId"]?.stringValue),
                    "status": JSON(body["Status"]?.stringValue), "message": JSON(body["Message"]?.stringValue)]
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }

    static let adbpgDeleteCollectionData = Tool(
        name: "adbpg_delete_collection_data",
        title: "AnalyticDB: delete rows",
        description: """
            Deletes rows from a collection (DeleteCollectionData): by ids, by field values (collection_data, such as \
            {"title": ["a", "b"]}), and/or by a filter in SQL WHERE syntax over metadata fields (collection_data_filter, \
            such as "year < 2020 AND source = 'web'"). Returns AppliedRows, the number of rows deleted. Irreversible.
            """,
        input: [
            "properties": Schema.collectionTarget([
                ("ids", ["type": "array", "minItems": 1, "items": ["type": "string", "minLength": 1], "description": "Row ids to delete."]),
                ("collection_data", ["type": "object", "minProperties": 1, "additionalProperties": ["type": "array", "minItems": 1],
                                     "description": "Field name → values to delete (the API's CollectionData)."]),
                ("collection_data_filter", Schema.string("A SQL WHERE condition over metadata fields (the API's CollectionDataFilter).")),
            ]),
            "required": ["collection"],
        ],
        output: [
            "properties": ["applied_rows": ["type": "integer", "description": "Rows deleted."], "request_id": ["type": ["string", "null"]]],
            "required": ["applied_rows", "request_id"],
        ],
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true)
    ) { arguments, _, environment throws(ToolFailure) in
        guard let collection = arguments["collection"]?.stringValue else { throw ToolFailure("collection is required") }
        var data = arguments["collection_data"]?.objectValue
        if let ids = arguments["ids"] {
            if data?["id"] != nil { throw ToolFailure("give the ids either as ids or as collection_data.id, not both") }
            data = data ?? JSONObject()
            data!["id"] = ids
        }
        let filter = arguments["collection_data_filter"]?.stringValue
        guard data != nil || filter != nil else {
            throw ToolFailure("say what to delete: ids, collection_data, or collection_data_filter (nothing was deleted)")
        }
        let (client, target) = try environment.adbpgTarget(profile: arguments["profile"]?.stringValue, collection: collection,
                                                           namespace: arguments["namespace"]?.stringValue,
                                                           password: arguments["namespace_password"]?.stringValue)
        do {
            let body = try await client.deleteCollectionData(target, collectionData: data.map(JSON.object), filter: filter)
            return ["applied_rows": .int(body["AppliedRows"]?.intValue ?? 0), "request_id": JSON(body["RequestId"]?.stringValue)]
        } catch {
            throw ToolFailure(String(describing: error))
        }
    }
}
