import Foundation
import HTTP
import JSON
import Signing
import Store

/// A VikingDB collection as the emulator serves it: declared fields, primary key, and whether it vectorizes.
public struct VikingCollection: Sendable, Codable, Equatable {
    public var name: String
    public var resourceID: String?
    public var primaryKey: String
    /// `int64` or `string`.
    public var primaryKeyType: String
    /// Field name → type: `string`, `int64`, `float32`, `bool`, `vector`, `text`, `list<string>`, `list<int64>`.
    public var fields: [String: String]
    public var dimension: Int?
    public var vectorize: Bool

    enum CodingKeys: String, CodingKey {
        case name, fields, dimension, vectorize
        case resourceID = "resource_id", primaryKey = "primary_key", primaryKeyType = "primary_key_type"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        resourceID = try c.decodeIfPresent(String.self, forKey: .resourceID)
        primaryKey = try c.decodeIfPresent(String.self, forKey: .primaryKey) ?? "id"
        primaryKeyType = try c.decodeIfPresent(String.self, forKey: .primaryKeyType) ?? "int64"
        fields = try c.decode([String: String].self, forKey: .fields)
        dimension = try c.decodeIfPresent(Int.self, forKey: .dimension)
        vectorize = try c.decodeIfPresent(Bool.self, forKey: .vectorize) ?? false
    }

    public init(name: String, resourceID: String? = nil, primaryKey: String = "id", primaryKeyType: String = "int64",
                fields: [String: String], dimension: Int? = nil, vectorize: Bool = false) {
        self.name = name
        self.resourceID = resourceID
        self.primaryKey = primaryKey
        self.primaryKeyType = primaryKeyType
        self.fields = fields
        self.dimension = dimension
        self.vectorize = vectorize
    }

    /// A collection to try things with when no configuration names any.
    public static let defaults = [
        VikingCollection(name: "demo", resourceID: "vdb-demo", fields: ["id": "int64", "vec": "vector", "tag": "string", "score": "float32"], dimension: 4),
    ]

    /// Reads `{"collections": [...]}` from a JSON file.
    public static func load(path: String) throws -> [VikingCollection] {
        struct File: Codable { var collections: [VikingCollection] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path))).collections
    }
}

extension Emulator {
    static func vikingEnvelope(_ status: Int, code: String, message: String, result: JSON = .null, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                     body: (["code": .string(code), "message": .string(message), "request_id": .string(requestID()), "result": result] as JSON).serializedBytes())
    }

    struct VikingError: Error {
        let response: HTTPResponse
        init(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) {
            response = Emulator.vikingEnvelope(status, code: code, message: message, headers: headers)
        }
    }

    func viking(_ request: HTTPRequest, path: String) -> HTTPResponse {
        if path == "/api/vikingdb/Ping" { return Self.vikingEnvelope(200, code: "Success", message: "pong") }
        do {
            let body = try request.body.readAll(limit: 32 << 20)
            try vikingAuthenticate(request, path: path, body: body)
            if let injected = vikingFault() { return injected }
            guard let json = try? JSON.parse(body), json.objectValue != nil else {
                throw VikingError(400, "InvalidParameter", "the body must be a JSON object")
            }
            let collection = try vikingCollection(json)
            switch path {
            case "/api/vikingdb/data/upsert": return try vikingWrite(json, collection, merge: false)
            case "/api/vikingdb/data/update": return try vikingWrite(json, collection, merge: true)
            case "/api/vikingdb/data/delete": return try vikingDelete(json, collection)
            case "/api/vikingdb/data/fetch_in_collection": return try vikingFetch(json, collection)
            default: throw VikingError(404, "NotFound.API", "unknown API \(path)")
            }
        } catch let error as VikingError {
            return error.response
        } catch {
            return Self.vikingEnvelope(500, code: "InternalError", message: "\(error)")
        }
    }

    func vikingAuthenticate(_ request: HTTPRequest, path: String, body: [UInt8]) throws(VikingError) {
        guard let authorization = request.header("authorization") else {
            throw VikingError(401, "Unauthorized", "the request is not signed and carries no API key")
        }
        if authorization.hasPrefix("Bearer ") {
            guard configuration.apiKeys.contains(String(authorization.dropFirst(7))) else {
                throw VikingError(401, "InvalidApiKey", "the API key is not valid")
            }
            return
        }
        let target = request.target
        let query = target.firstIndex(of: "?").map { PercentEncoding.parseForm(target[target.index(after: $0)...]) } ?? []
        switch VolcengineSigner.verify(authorization: authorization, method: request.method, path: path, query: query,
                                       headers: request.headers, body: body, secret: { configuration.accounts[$0]?.secret }) {
        case .valid(let key):
            if let token = configuration.accounts[key]?.securityToken, request.header("x-security-token") != token {
                throw VikingError(401, "InvalidSecurityToken", "the security token is not valid")
            }
        case .unknownKey: throw VikingError(401, "InvalidAccessKey", "the access key is not valid")
        case .mismatch: throw VikingError(401, "SignatureDoesNotMatch", "the request signature does not match")
        case .malformed(let why): throw VikingError(401, "InvalidAuthorization", "the Authorization header is malformed: \(why)")
        }
    }

    /// A share of write requests fails on request: `{"viking": {"p503": 0.1, "p429": 0.05, "pdrop": 0.02}}`.
    func vikingFault() -> HTTPResponse? {
        let rows = (try? database.query("SELECT key, value FROM emulator_settings WHERE key LIKE 'viking_p%'")) ?? []
        var p: [String: Double] = [:]
        for row in rows { p[row["key"].string ?? ""] = Double(row["value"].string ?? "0") ?? 0 }
        let roll = Double.random(in: 0..<1)
        if roll < p["viking_pdrop", default: 0] { return HTTPResponse(status: 0) } // dropped connection
        if roll < p["viking_pdrop", default: 0] + p["viking_p503", default: 0] {
            return Self.vikingEnvelope(503, code: "ServiceUnavailable", message: "injected fault")
        }
        if roll < p["viking_pdrop", default: 0] + p["viking_p503", default: 0] + p["viking_p429", default: 0] {
            return Self.vikingEnvelope(429, code: "RequestLimitExceeded", message: "injected throttling", headers: [("Retry-After", "0.05")])
        }
        return nil
    }

    func vikingCollection(_ body: JSON) throws(VikingError) -> VikingCollection {
        let name = body["collection_name"]?.stringValue
        let resource = body["resource_id"]?.stringValue
        guard (name == nil) != (resource == nil) else {
            throw VikingError(400, "InvalidParameter", "give exactly one of collection_name and resource_id")
        }
        guard let collection = configuration.vikingCollections.first(where: { $0.name == name || ($0.resourceID != nil && $0.resourceID == resource) }) else {
            throw VikingError(404, "NotFound.VikingdbCollection", "collection \(name ?? resource ?? "") does not exist")
        }
        return collection
    }

    static func key(_ value: JSON, _ collection: VikingCollection) throws(VikingError) -> String {
        switch (collection.primaryKeyType, value) {
        case ("int64", .int(let i)):
            guard i != 0 else { throw VikingError(400, "InvalidParameter", "the primary key \(collection.primaryKey) must not be 0") }
            return String(i)
        case ("string", .string(let s)):
            guard !s.isEmpty else { throw VikingError(400, "InvalidParameter", "the primary key \(collection.primaryKey) must not be empty") }
            return "s:" + s
        default:
            throw VikingError(400, "InvalidParameter", "the primary key \(collection.primaryKey) must be \(collection.primaryKeyType)")
        }
    }

    static func check(_ field: String, _ value: JSON, type: String, dimension: Int?) throws(VikingError) {
        let ok: Bool
        switch type {
        case "string", "text": ok = value.stringValue != nil
        case "int64": ok = value.intValue != nil && value.typeName == "integer"
        case "float32": ok = value.doubleValue != nil
        case "bool": ok = value.boolValue != nil
        case "vector":
            let items = value.arrayValue ?? []
            ok = !items.isEmpty && items.allSatisfy { $0.doubleValue != nil } && (dimension == nil || items.count == dimension)
        case "list<string>": ok = value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
        case "list<int64>": ok = value.arrayValue?.allSatisfy { $0.intValue != nil } ?? false
        default: ok = true
        }
        if !ok { throw VikingError(400, "InvalidParameter", "field \(field) must be \(type)\(type == "vector" ? " of \(dimension ?? 0) numbers" : "")") }
    }

    /// Counts rows against the collection's rows-per-second limit, and records accepted writes for measurement.
    func vikingAdmit(_ collection: String, rows: Int, _ connection: Connection) throws {
        let now = Date().timeIntervalSince1970
        if let limit = configuration.vikingRowsPerSecond {
            let used = try connection.query("SELECT COALESCE(SUM(rows), 0) AS n FROM viking_writes WHERE collection = ? AND at > ?",
                                            [.text(collection), .double(now - 1)]).first?["n"].int ?? 0
            if Double(used + Int64(rows)) > limit {
                throw VikingError(429, "RequestLimitExceeded", "more than \(Int(limit)) rows per second for collection \(collection)",
                                  headers: [("Retry-After", "0.2")])
            }
        }
        try connection.execute("INSERT INTO viking_writes (collection, at, rows) VALUES (?, ?, ?)", [.text(collection), .double(now), .int(Int64(rows))])
    }

    func vikingWrite(_ body: JSON, _ collection: VikingCollection, merge: Bool) throws -> HTTPResponse {
        guard let data = body["data"]?.arrayValue, !data.isEmpty else { throw VikingError(400, "InvalidParameter", "data must be a non-empty array") }
        let limit = collection.vectorize ? 1 : 100
        guard data.count <= limit else {
            throw VikingError(400, "InvalidParameter", "at most \(limit) row\(limit == 1 ? "" : "s") per request for collection \(collection.name)")
        }
        let ttl = body["ttl"]?.intValue ?? 0
        guard ttl >= 0 else { throw VikingError(400, "InvalidParameter", "ttl must not be negative") }
        let ignoreUnknown = body["ignore_unknown_fields"]?.boolValue ?? false
        var rows: [(String, JSONObject)] = []
        for (i, row) in data.enumerated() {
            guard let object = row.objectValue else { throw VikingError(400, "InvalidParameter", "data[\(i)] must be an object") }
            guard let keyValue = object[collection.primaryKey] else {
                throw VikingError(400, "InvalidParameter", "data[\(i)] lacks the primary key \(collection.primaryKey)")
            }
            let key = try Self.key(keyValue, collection)
            var clean = JSONObject()
            for (field, value) in object {
                guard let type = collection.fields[field] else {
                    if ignoreUnknown { continue }
                    throw VikingError(400, "InvalidParameter", "data[\(i)] has the unknown field \(field)")
                }
                try Self.check(field, value, type: type, dimension: collection.dimension)
                clean[field] = value
            }
            if !merge {
                for (field, type) in collection.fields where clean[field] == nil && type == "text" {
                    throw VikingError(400, "InvalidParameter", "data[\(i)] lacks the text field \(field), which has no default")
                }
            }
            rows.append((key, clean))
        }
        try database.transaction { connection in
            try vikingAdmit(collection.name, rows: rows.count, connection)
            let expire: SQLValue = ttl > 0 ? .double(Date().timeIntervalSince1970 + Double(ttl)) : .null
            for (key, fields) in rows {
                var stored = fields
                if merge, let existing = try connection.query("SELECT fields FROM viking_rows WHERE collection = ? AND pk = ?",
                                                               [.text(collection.name), .text(key)]).first?["fields"].string,
                   var previous = (try? JSON.parse(existing))?.objectValue {
                    for (field, value) in fields { previous[field] = value }
                    stored = previous
                }
                try connection.execute("""
                    INSERT INTO viking_rows (collection, pk, fields, expire_at, writes) VALUES (?, ?, ?, ?, 1)
                    ON CONFLICT(collection, pk) DO UPDATE SET fields = excluded.fields, expire_at = excluded.expire_at, writes = writes + 1
                    """, [.text(collection.name), .text(key), .text(JSON.object(stored).serialized()), expire])
            }
        }
        return Self.vikingEnvelope(200, code: "Success", message: "success", result: ["token_usage": [:]])
    }

    func vikingIDs(_ body: JSON, _ collection: VikingCollection) throws(VikingError) -> [(JSON, String)] {
        guard let ids = body["ids"]?.arrayValue else { throw VikingError(400, "InvalidParameter", "ids is required") }
        guard ids.count <= 100 else { throw VikingError(400, "InvalidParameter", "at most 100 ids per request") }
        var out: [(JSON, String)] = []
        for id in ids { out.append((id, try Self.key(id, collection))) }
        return out
    }

    func vikingDelete(_ body: JSON, _ collection: VikingCollection) throws -> HTTPResponse {
        if body["del_all"]?.boolValue == true {
            try database.execute("DELETE FROM viking_rows WHERE collection = ?", [.text(collection.name)])
        } else {
            let ids = try vikingIDs(body, collection)
            try database.transaction { connection in
                try vikingAdmit(collection.name, rows: ids.count, connection)
                for (_, key) in ids { try connection.execute("DELETE FROM viking_rows WHERE collection = ? AND pk = ?", [.text(collection.name), .text(key)]) }
            }
        }
        return Self.vikingEnvelope(200, code: "Success", message: "success")
    }

    func vikingFetch(_ body: JSON, _ collection: VikingCollection) throws -> HTTPResponse {
        let ids = try vikingIDs(body, collection)
        var found: [JSON] = []
        var missing: [JSON] = []
        let now = Date().timeIntervalSince1970
        for (id, key) in ids {
            let row = try database.query("SELECT fields, expire_at FROM viking_rows WHERE collection = ? AND pk = ?", [.text(collection.name), .text(key)]).first
            if let row, (row["expire_at"].double ?? .infinity) > now, let fields = try? JSON.parse(row["fields"].string ?? "{}") {
                found.append(["id": id, "fields": fields])
            } else {
                missing.append(id)
            }
        }
        return Self.vikingEnvelope(200, code: "Success", message: "success", result: ["fetch": .array(found), "ids_not_exist": .array(missing)])
    }

    /// `GET /_emulator/viking?collection=…[&over=N][&dump=1]`: rows stored, rows written more than N times (default 1),
    /// and the most rows accepted in any one-second window (for tests and benchmarks).
    func vikingState(query: [(String, String)]) -> HTTPResponse {
        guard let collection = query.first(where: { $0.0 == "collection" })?.1 else {
            return Self.vikingEnvelope(400, code: "MissingParameter", message: "collection is required")
        }
        do {
            let over = Int64(query.first { $0.0 == "over" }?.1 ?? "1") ?? 1
            let rows = try database.query("SELECT COUNT(*) AS n, COALESCE(SUM(writes > ?), 0) AS rewritten FROM viking_rows WHERE collection = ?",
                                          [.int(over), .text(collection)]).first
            let writes = try database.query("SELECT at, rows FROM viking_writes WHERE collection = ? ORDER BY at", [.text(collection)])
            var peak = 0
            var window: [(Double, Int)] = []
            var sum = 0
            for w in writes {
                let at = w["at"].double ?? 0
                let n = Int(w["rows"].int ?? 0)
                window.append((at, n))
                sum += n
                while let first = window.first, at - first.0 >= 1 { sum -= first.1; window.removeFirst() }
                peak = max(peak, sum)
            }
            var result: JSON = ["rows": .int(rows?["n"].int ?? 0), "rewritten_rows": .int(rows?["rewritten"].int ?? 0),
                                "peak_rows_per_second": JSON(peak), "writes": JSON(writes.count)]
            if query.contains(where: { $0.0 == "dump" }) {
                let all = try database.query("SELECT fields FROM viking_rows WHERE collection = ? ORDER BY pk", [.text(collection)])
                result["data"] = .array(all.compactMap { try? JSON.parse($0["fields"].string ?? "{}") })
            }
            return Self.vikingEnvelope(200, code: "Success", message: "success", result: result)
        } catch {
            return Self.vikingEnvelope(500, code: "InternalError", message: "\(error)")
        }
    }
}
