import Foundation
import HTTP
import JSON
import Signing
import Store

extension Emulator {
    static let maxPendingDocuments = 20
    static let documentDimension = 256

    // MARK: Fault injection (for tests of retries)

    /// `POST /_emulator/faults {"throttle": N, "retry_after_ms": M, "forbidden": K, "viking": {"p503", "p429", "pdrop"}}`:
    /// the next N signed AnalyticDB calls get `Throttling.User` (with `x-acs-retry-after: M`), then the next K get
    /// `Forbidden.RAM`; VikingDB writes fail at random with 503, 429 or a dropped connection in the given shares.
    func setFaults(_ request: HTTPRequest) -> HTTPResponse {
        guard let body = try? request.body.readAll(limit: 1 << 16), let json = try? JSON.parse(body) else {
            return Self.error(400, "InvalidParameter", "faults must be a JSON object")
        }
        for key in ["throttle", "retry_after_ms", "forbidden"] {
            let value = json[key]?.intValue ?? 0
            try? database.execute("INSERT OR REPLACE INTO emulator_settings (key, value) VALUES (?, ?)", [.text("fault_" + key), .text(String(value))])
        }
        for key in ["p503", "p429", "pdrop"] {
            let value = json["viking"]?[key]?.doubleValue ?? 0
            try? database.execute("INSERT OR REPLACE INTO emulator_settings (key, value) VALUES (?, ?)", [.text("viking_" + key), .text(String(value))])
        }
        return Self.json(200, ["ok": true])
    }

    func injectedFault() -> HTTPResponse? {
        let fault = try? database.transaction { connection -> HTTPResponse? in
            func take(_ key: String) throws -> Bool {
                let n = Int(try connection.query("SELECT value FROM emulator_settings WHERE key = ?", [.text("fault_" + key)]).first?["value"].string ?? "0") ?? 0
                guard n > 0 else { return false }
                try connection.execute("UPDATE emulator_settings SET value = ? WHERE key = ?", [.text(String(n - 1)), .text("fault_" + key)])
                return true
            }
            if try take("throttle") {
                let after = try connection.query("SELECT value FROM emulator_settings WHERE key = 'fault_retry_after_ms'").first?["value"].string ?? "0"
                return Self.error(400, "Throttling.User", "Request was denied due to user flow control.",
                                  headers: (Int(after) ?? 0) > 0 ? [("x-acs-retry-after", after)] : [])
            }
            if try take("forbidden") {
                return Self.error(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
            }
            return nil
        }
        return fault ?? nil
    }

    // MARK: Documents

    func submitDocumentJob(_ p: [String: String], host: String) throws(APIError) -> HTTPResponse {
        let (instance, namespace, collection) = try scope(p)
        let fileURL = try Self.required(p, "FileUrl")
        let fileName = try Self.required(p, "FileName")
        guard (fileName as NSString).pathExtension.count > 0 else {
            throw APIError(400, "InvalidParameter.FileName", "FileName must carry an extension, such as .pdf or .md.")
        }
        let size = Int(p["ChunkSize"] ?? "") ?? 800
        let overlap = Int(p["ChunkOverlap"] ?? "") ?? 50
        guard (1...2048).contains(size) else { throw APIError(400, "InvalidParameter.ChunkSize", "ChunkSize must be at most 2048.") }
        guard overlap >= 0, overlap <= size else { throw APIError(400, "InvalidParameter.ChunkOverlap", "ChunkOverlap must not exceed ChunkSize.") }
        var options: JSON = ["ChunkSize": JSON(size), "ChunkOverlap": JSON(overlap), "DryRun": .bool(p["DryRun"]?.lowercased() == "true")]
        if let loader = p["DocumentLoaderName"] { options["DocumentLoaderName"] = .string(loader) }
        if let splitter = p["TextSplitterName"] { options["TextSplitterName"] = .string(splitter) }
        if let raw = p["Separators"] {
            guard let separators = try? JSON.parse(raw), separators.arrayValue?.allSatisfy({ $0.stringValue != nil }) == true else {
                throw APIError(400, "InvalidParameter.Separators", "Separators must be a JSON array of strings.")
            }
            options["Separators"] = separators
        }
        if let raw = p["Metadata"] {
            guard let metadata = try? JSON.parse(raw), metadata.objectValue != nil else {
                throw APIError(400, "InvalidParameter.Metadata", "Metadata must be a JSON object.")
            }
            options["Metadata"] = metadata
        }
        let id = UUID().uuidString.lowercased()
        let now = Date().timeIntervalSince1970
        do {
            try database.transaction { connection in
                let pending = try connection.query("SELECT COUNT(*) AS n FROM adb_jobs WHERE kind = 'document' AND instance = ? AND status IN ('Pending','Running')",
                                                   [.text(instance)]).first?["n"].int ?? 0
                guard pending < Self.maxPendingDocuments else {
                    throw APIError(400, "Throttling.DocumentQuota", "At most \(Self.maxPendingDocuments) documents may be pending or running; wait for some to finish.")
                }
                try connection.execute("""
                    INSERT INTO adb_jobs (id, kind, instance, namespace, collection, status, file_url, pace, created, updated, file_name, options, chunk_host)
                    VALUES (?, 'document', ?, ?, ?, 'Pending', ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(id), .text(instance), .text(namespace), .text(collection), .text(fileURL), SQLValue(configuration.pace),
                          .double(now), .double(now), .text(fileName), .text(options.serialized()), .text(host)])
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Message": "success", "Status": "success", "JobId": .string(id)])
    }

    /// Chunks the whole document when the job starts; then reports a percentage that follows the pace.
    func stepDocument(_ row: Row, path: String, _ connection: Connection) throws {
        let id = row["id"].string!
        let now = Date().timeIntervalSince1970
        if row["status"].string == "Pending" {
            let options = (try? JSON.parse(row["options"].string ?? "{}")) ?? [:]
            let size = Int(options["ChunkSize"]?.intValue ?? 800)
            let chunks: [Chunker.Chunk]
            do {
                chunks = try Chunker.chunks(path: path, fileName: row["file_name"].string ?? "document.txt",
                                            loader: options["DocumentLoaderName"]?.stringValue, size: size,
                                            overlap: Int(options["ChunkOverlap"]?.intValue ?? 50),
                                            separators: options["Separators"]?.arrayValue?.compactMap(\.stringValue),
                                            metadata: options["Metadata"])
            } catch {
                try connection.execute("UPDATE adb_jobs SET status = 'Failed', error = ?, error_code = ?, updated = ?, finished = ? WHERE id = ?",
                                       [.text(error.message), .text(error.code), .double(now), .double(now), .text(id)])
                return
            }
            let dryRun = options["DryRun"]?.boolValue ?? false
            var tokens = 0
            var jsonl = ""
            var plain = ""
            let instance = row["instance"].string!, namespace = row["namespace"].string!, collection = row["collection"].string!
            let dimension = try connection.query("SELECT dimension FROM adb_collections WHERE instance = ? AND namespace = ? AND collection = ?",
                                                 [.text(instance), .text(namespace), .text(collection)]).first?["dimension"].int.map(Int.init)
                ?? Self.documentDimension
            for (index, chunk) in chunks.enumerated() {
                jsonl += (["page_content": .string(chunk.text), "metadata": chunk.metadata] as JSON).serialized() + "\n"
                plain += chunk.text + "\n\n"
                guard !dryRun else { continue }
                tokens += Chunker.tokens(chunk.text)
                let vector = Chunker.embedding(chunk.text, dimension: dimension)
                var metadata = chunk.metadata
                metadata["content"] = .string(chunk.text)
                try connection.execute("INSERT OR REPLACE INTO adb_rows (instance, namespace, collection, id, metadata, vector) VALUES (?, ?, ?, ?, ?, ?)",
                                       [.text(instance), .text(namespace), .text(collection), .text("\(id)-\(index)"),
                                        .text(metadata.serialized()), .text(JSON.array(vector.map(JSON.double)).serialized())])
            }
            if !dryRun && !chunks.isEmpty {
                try connection.execute("INSERT OR IGNORE INTO adb_collections (instance, namespace, collection, dimension) VALUES (?, ?, ?, ?)",
                                       [.text(instance), .text(namespace), .text(collection), .int(Int64(dimension))])
            }
            let directory = (configuration.dataDirectory as NSString).appendingPathComponent("chunks")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try jsonl.write(toFile: "\(directory)/\(id).jsonl", atomically: true, encoding: .utf8)
            try plain.write(toFile: "\(directory)/\(id).txt", atomically: true, encoding: .utf8)
            let result: JSON = ["chunks": JSON(chunks.count), "tokens": JSON(tokens), "entries": JSON(dryRun ? 0 : chunks.count)]
            try connection.execute("UPDATE adb_jobs SET status = 'Running', started = ?, total_rows = ?, result = ?, updated = ? WHERE id = ?",
                                   [.double(now), .int(Int64(chunks.count)), .text(result.serialized()), .double(now), .text(id)])
        }
        guard let current = try connection.query("SELECT * FROM adb_jobs WHERE id = ?", [.text(id)]).first,
              current["status"].string == "Running" else { return }
        let total = max(1, current["total_rows"].int ?? 1)
        var percent: Int64 = 100
        if let pace = current["pace"].double, pace > 0 {
            let done = pace * (now - (current["started"].double ?? now))
            percent = min(100, Int64(done / Double(total) * 100))
        }
        try connection.execute("UPDATE adb_jobs SET progress = ?, status = ?, updated = ?, finished = ? WHERE id = ?",
                               [.int(percent), .text(percent >= 100 ? "Success" : "Running"), .double(now),
                                percent >= 100 ? .double(now) : .null, .text(id)])
    }

    func getDocumentJob(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let row = try currentJob(p)
        let id = row["id"].string ?? ""
        guard row["kind"].string == "document" else { throw APIError(404, "Job.NotFound", "The job \(id) is not a document job.") }
        let status = row["status"].string ?? "Pending"
        var body: JSON = ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "success", "Job": Self.jobObject(row)]
        let result = (try? JSON.parse(row["result"].string ?? "{}")) ?? [:]
        if status == "Success" || status == "Running" {
            let base = "http://\(row["chunk_host"].string ?? "localhost")/_emulator/chunks/\(id)"
            body["ChunkResult"] = ["ChunkFileUrl": .string(base + ".jsonl"), "PlainChunkFileUrl": .string(base + ".txt")]
        }
        if status == "Success" {
            body["Usage"] = ["EmbeddingTokens": .int(result["tokens"]?.intValue ?? 0), "EmbeddingEntries": .int(result["entries"]?.intValue ?? 0)]
        }
        return Self.json(200, body)
    }

    func cancelDocumentJob(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let id = try cancellableJob(p, statuses: ["Pending", "Running"])
        let now = Date().timeIntervalSince1970
        do {
            try database.execute("UPDATE adb_jobs SET cancel_requested = 1, status = 'Cancelled', updated = ?, finished = ? WHERE id = ?",
                                 [.double(now), .double(now), .text(id)])
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "Cancelled successfully."])
    }

    func chunkFile(_ name: String) -> HTTPResponse {
        guard name.range(of: "^[0-9a-f-]+\\.(jsonl|txt)$", options: .regularExpression) != nil,
              let data = FileManager.default.contents(atPath: (configuration.dataDirectory as NSString).appendingPathComponent("chunks/\(name)")) else {
            return Self.ossError(404, "NoSuchKey", "The specified key does not exist.")
        }
        let type = name.hasSuffix(".jsonl") ? "application/jsonl; charset=utf-8" : "text/plain; charset=utf-8"
        return HTTPResponse(status: 200, headers: [("Content-Type", type)], body: Array(data))
    }

    // MARK: Rows

    func upsertRows(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let (instance, namespace, collection) = try scope(p)
        let raw = try Self.required(p, "Rows")
        guard let rows = (try? JSON.parse(raw))?.arrayValue, !rows.isEmpty else {
            throw APIError(400, "InvalidParameter.Rows", "Rows must be a non-empty JSON array.")
        }
        do {
            try database.transaction { connection in
                var dimension = try connection.query("SELECT dimension FROM adb_collections WHERE instance = ? AND namespace = ? AND collection = ?",
                                                     [.text(instance), .text(namespace), .text(collection)]).first?["dimension"].int
                for (i, row) in rows.enumerated() {
                    guard let rowID = row["Id"]?.stringValue, !rowID.isEmpty else { throw APIError(400, "InvalidParameter.Rows", "Rows[\(i)].Id is missing.") }
                    guard let vector = row["Vector"]?.arrayValue, !vector.isEmpty, vector.allSatisfy({ $0.doubleValue != nil }) else {
                        throw APIError(400, "InvalidParameter.Rows", "Rows[\(i)].Vector must be an array of numbers.")
                    }
                    if let metadata = row["Metadata"], metadata.objectValue?.allSatisfy({ $0.value.stringValue != nil }) != true {
                        throw APIError(400, "InvalidParameter.Rows", "Rows[\(i)].Metadata values must be strings.")
                    }
                    if let expected = dimension, expected != Int64(vector.count) {
                        throw APIError(400, "InvalidParameter.Rows", "Rows[\(i)].Vector has \(vector.count) dimensions; the collection has \(expected).")
                    }
                    if dimension == nil {
                        dimension = Int64(vector.count)
                        try connection.execute("INSERT OR REPLACE INTO adb_collections (instance, namespace, collection, dimension) VALUES (?, ?, ?, ?)",
                                               [.text(instance), .text(namespace), .text(collection), .int(dimension!)])
                    }
                    try connection.execute("""
                        INSERT OR REPLACE INTO adb_rows (instance, namespace, collection, id, metadata, vector, sparse_vector) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, [.text(instance), .text(namespace), .text(collection), .text(rowID), .text((row["Metadata"] ?? [:]).serialized()),
                              .text(JSON.array(vector).serialized()), SQLValue(row["SparseVector"]?.serialized())])
                }
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "success"])
    }

    func deleteRows(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let (instance, namespace, collection) = try scope(p)
        var clauses: [String] = []
        var values: [SQLValue] = [.text(instance), .text(namespace), .text(collection)]
        if let raw = p["CollectionData"], !raw.isEmpty {
            guard let data = (try? JSON.parse(raw))?.objectValue, !data.isEmpty else {
                throw APIError(400, "InvalidParameter.CollectionData", "CollectionData must be a JSON object of field names to lists of values.")
            }
            for (field, list) in data {
                guard let items = list.arrayValue, !items.isEmpty else {
                    throw APIError(400, "InvalidParameter.CollectionData", "CollectionData.\(field) must be a non-empty list of values.")
                }
                let column = field == "id" ? "id" : "json_extract(metadata, '$.\"\(field.replacingOccurrences(of: "\"", with: ""))\"')"
                clauses.append("\(column) IN (\(items.map { _ in "?" }.joined(separator: ",")))")
                values += items.map { $0.stringValue.map(SQLValue.text) ?? $0.intValue.map(SQLValue.int) ?? .text($0.serialized()) }
            }
        }
        if let filter = p["CollectionDataFilter"], !filter.isEmpty {
            do {
                let translated = try FilterSQL.translate(filter)
                clauses.append("(\(translated.sql))")
                values += translated.parameters
            } catch {
                throw APIError(400, "InvalidParameter.CollectionDataFilter", "The filter is not valid: \(error.message).")
            }
        }
        guard !clauses.isEmpty else {
            throw APIError(400, "MissingParameter", "Either CollectionData or CollectionDataFilter must be given.")
        }
        let applied: Int
        do {
            applied = try database.withConnection { connection in
                try connection.execute("DELETE FROM adb_rows WHERE instance = ? AND namespace = ? AND collection = ? AND \(clauses.joined(separator: " AND "))", values)
                return connection.changes
            }
        } catch {
            throw APIError(400, "InvalidParameter.CollectionDataFilter", "The filter could not be applied: \(error).")
        }
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "success", "AppliedRows": JSON(applied)])
    }

    /// `GET /_emulator/rows?collection=…[&namespace=…]`: the stored rows, for tests.
    func rowsResponse(query: [(String, String)]) -> HTTPResponse {
        func value(_ key: String) -> String? { query.first { $0.0 == key }?.1 }
        guard let collection = value("collection") else { return Self.error(400, "MissingParameter", "collection is required") }
        let rows = (try? database.query("SELECT id, metadata, vector, sparse_vector FROM adb_rows WHERE collection = ? AND namespace = ? ORDER BY id",
                                        [.text(collection), .text(value("namespace") ?? "public")])) ?? []
        return Self.json(200, ["rows": .array(rows.map { row in
            var out: JSON = ["Id": JSON(row["id"].string), "Metadata": (try? JSON.parse(row["metadata"].string ?? "{}")) ?? .null,
                             "Vector": (try? JSON.parse(row["vector"].string ?? "[]")) ?? .null]
            if let sparse = row["sparse_vector"].string { out["SparseVector"] = (try? JSON.parse(sparse)) ?? .null }
            return out
        })])
    }
}
