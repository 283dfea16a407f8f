import Foundation
import HTTP
import JSON
import Signing
import Store

extension Emulator {
    /// Dispatches an RPC action after checking its signature.
    func rpc(_ request: HTTPRequest, action: String, query: [(String, String)]) -> HTTPResponse {
        do {
            let body = try request.body.readAll(limit: 16 << 20)
            let p = try authenticate(request, query: query, body: body)
            if let injected = injectedFault() { return injected }
            switch action {
            case "AuthorizeFileUpload": return try authorizeFileUpload(p)
            case "UpsertCollectionDataAsync": return try submitUpsertJob(p)
            case "GetUpsertCollectionDataJob": return try getUpsertJob(p)
            case "CancelUpsertCollectionDataJob": return try cancelUpsertJob(p)
            case "UploadDocumentAsync": return try submitDocumentJob(p, host: request.header("host") ?? request.authority)
            case "GetUploadDocumentJob": return try getDocumentJob(p)
            case "CancelUploadDocumentJob": return try cancelDocumentJob(p)
            case "UpsertCollectionData": return try upsertRows(p)
            case "DeleteCollectionData": return try deleteRows(p)
            default: throw APIError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
            }
        } catch let error as APIError {
            return error.response
        } catch {
            return Self.error(500, "InternalError", "The request processing has failed due to some unknown error. (\(error))")
        }
    }

    static func required(_ p: [String: String], _ name: String) throws(APIError) -> String {
        guard let value = p[name], !value.isEmpty else {
            throw APIError(400, "MissingParameter", "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.")
        }
        return value
    }

    /// The instance, namespace and collection a call names, after checking the namespace password.
    /// A namespace is created, with the password it is first used with, on first use.
    func scope(_ p: [String: String]) throws(APIError) -> (instance: String, namespace: String, collection: String) {
        _ = try Self.required(p, "RegionId")
        guard let instance = p["WorkspaceId"] ?? p["DBInstanceId"] else {
            throw APIError(400, "MissingParameter", "The input parameter \"DBInstanceId\" or \"WorkspaceId\" that is mandatory for processing this request is not supplied.")
        }
        let namespace = p["Namespace"].flatMap { $0.isEmpty ? nil : $0 } ?? "public"
        let collection = try Self.required(p, "Collection")
        let password = try Self.required(p, "NamespacePassword")
        do {
            try database.execute("INSERT OR IGNORE INTO adb_namespaces (instance, namespace, password) VALUES (?, ?, ?)",
                                 [.text(instance), .text(namespace), .text(password)])
            let stored = try database.query("SELECT password FROM adb_namespaces WHERE instance = ? AND namespace = ?",
                                            [.text(instance), .text(namespace)]).first?["password"].string
            guard stored == password else {
                throw APIError(403, "Namespace.PasswordInvalid", "The password of namespace \(namespace) is incorrect.")
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        return (instance, namespace, collection)
    }

    static func timestamp(_ t: Double?) -> JSON {
        guard let t else { return .null }
        let micros = Int((t - t.rounded(.down)) * 1_000_000)
        return .string(DateFormats.string(Date(timeIntervalSince1970: t), "yyyy-MM-dd HH:mm:ss", zone: "Asia/Shanghai")
                       + String(format: ".%06d", micros))
    }

    // MARK: OpenPlatform

    func authorizeFileUpload(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let region = p["RegionId"] ?? "cn-hangzhou"
        let key = "gpdb/upload/\(UUID().uuidString.lowercased())/data"
        let expiration = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let policy: JSON = ["expiration": .string(expiration), "conditions": [["bucket": .string(Self.bucket)], ["key": .string(key)]]]
        let encoded = Data(policy.serializedBytes()).base64EncodedString()
        let signature = Data(Digest.hmacSHA1(key: Array(ossSecret.utf8), data: Array(encoded.utf8))).base64EncodedString()
        return Self.json(200, [
            "RequestId": .string(Self.requestID()), "AccessKeyId": .string(ossAccessKeyID), "Bucket": .string(Self.bucket),
            "EncodedPolicy": .string(encoded), "Endpoint": .string("oss-\(region).aliyuncs.com"), "ObjectKey": .string(key),
            "Signature": .string(signature), "UseAccelerate": false,
        ])
    }

    // MARK: Upsert jobs

    func submitUpsertJob(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let (instance, namespace, collection) = try scope(p)
        let fileURL = try Self.required(p, "FileUrl")
        guard fileURL.hasPrefix("http://") || fileURL.hasPrefix("https://") else {
            throw APIError(400, "InvalidParameter", "FileUrl must be an http or https URL.")
        }
        let id = UUID().uuidString.lowercased()
        let now = Date().timeIntervalSince1970
        do {
            try database.execute("""
                INSERT INTO adb_jobs (id, kind, instance, namespace, collection, status, file_url, pace, created, updated)
                VALUES (?, 'upsert', ?, ?, ?, 'Start', ?, ?, ?, ?)
                """, [.text(id), .text(instance), .text(namespace), .text(collection), .text(fileURL),
                      SQLValue(configuration.pace), .double(now), .double(now)])
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Message": "success", "Status": "success", "JobId": .string(id)])
    }

    func job(_ id: String, instance: String, namespace: String, collection: String) throws(APIError) -> Row {
        let rows: [Row]
        do {
            rows = try database.query("SELECT * FROM adb_jobs WHERE id = ? AND instance = ? AND namespace = ? AND collection = ?",
                                      [.text(id), .text(instance), .text(namespace), .text(collection)])
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        guard let row = rows.first else { throw APIError(404, "Job.NotFound", "The job \(id) does not exist in collection \(collection).") }
        return row
    }

    /// The job a Get call names, advanced to now (only after checking it belongs to the caller's collection).
    func currentJob(_ p: [String: String]) throws(APIError) -> Row {
        let (instance, namespace, collection) = try scope(p)
        let id = try Self.required(p, "JobId")
        _ = try job(id, instance: instance, namespace: namespace, collection: collection)
        advance(jobID: id)
        return try job(id, instance: instance, namespace: namespace, collection: collection)
    }

    func getUpsertJob(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let row = try currentJob(p)
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "success", "Job": Self.jobObject(row)])
    }

    /// The API's `Job` object for a stored job (both kinds share it; documents add ErrorCode).
    static func jobObject(_ row: Row) -> JSON {
        let status = row["status"].string ?? "Start"
        var job: JSON = [
            "Id": JSON(row["id"].string), "Status": .string(status),
            "Completed": .bool(["Success", "Failed", "Cancelled"].contains(status)),
            "Progress": .int(row["progress"].int ?? 0),
            "CreateTime": timestamp(row["created"].double), "UpdateTime": timestamp(row["updated"].double),
        ]
        if let error = row["error"].string { job["Error"] = .string(error) }
        if let code = row["error_code"].string { job["ErrorCode"] = .string(code) }
        return job
    }

    /// A job that may still be cancelled: advanced to now, and in one of `statuses`; otherwise the API's refusal.
    func cancellableJob(_ p: [String: String], statuses: [String]) throws(APIError) -> String {
        let (instance, namespace, collection) = try scope(p)
        let id = try Self.required(p, "JobId")
        advance(jobID: id)
        let status = try job(id, instance: instance, namespace: namespace, collection: collection)["status"].string ?? ""
        guard statuses.contains(status) else {
            throw APIError(400, "Job.StatusInvalid", "The job \(id) is \(status) and cannot be cancelled.")
        }
        return id
    }

    func cancelUpsertJob(_ p: [String: String]) throws(APIError) -> HTTPResponse {
        let id = try cancellableJob(p, statuses: ["Start", "Running"])
        do {
            try database.execute("UPDATE adb_jobs SET cancel_requested = 1, status = 'Cancelling', updated = ? WHERE id = ?",
                                 [.double(Date().timeIntervalSince1970), .text(id)])
        } catch {
            throw APIError(500, "InternalError", "\(error)")
        }
        advance(jobID: id)
        return Self.json(200, ["RequestId": .string(Self.requestID()), "Status": "success", "Message": "Cancelled successfully."])
    }

    // MARK: Running jobs

    func advanceActiveJobs() {
        guard let rows = try? database.query("SELECT id FROM adb_jobs WHERE status IN ('Start','Pending','Running','Cancelling')") else { return }
        for row in rows { if let id = row["id"].string { advance(jobID: id) } }
    }

    /// Moves one job forward to where its pace says it should be, writing the rows it reached.
    func advance(jobID: String) {
        do {
            // Fetching a remote file happens outside the write lock.
            if let row = try database.query("SELECT * FROM adb_jobs WHERE id = ?", [.text(jobID)]).first,
               ["Start", "Pending"].contains(row["status"].string ?? ""), row["file_path"].string == nil, row["cancel_requested"].int != 1 {
                try resolveSource(row)
            }
            try database.transaction { connection in
                guard let row = try connection.query("SELECT * FROM adb_jobs WHERE id = ?", [.text(jobID)]).first else { return }
                try step(row, connection)
            }
        } catch {
            logger.warning("job failed to advance", metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
    }

    struct SourceFailure: Error { let message: String }

    /// Makes the job's file local: the emulator's own OSS objects are read in place; other URLs are fetched into a
    /// private file that is moved into place only if no other fetch (another thread or process) got there first, so a
    /// file being imported is never rewritten under the reader.
    func resolveSource(_ row: Row) throws {
        let id = row["id"].string!
        guard fetching.withLock({ $0.insert(id).inserted }) else { return }
        defer { fetching.withLock { _ = $0.remove(id) } }
        let url = row["file_url"].string!
        var path: String?
        var failure: String?
        var temporary: String?
        if let local = ossObjectPath(forURL: url) {
            if FileManager.default.fileExists(atPath: local) { path = local } else { failure = "Failed to download file: object not found: \(url)" }
        } else if let fetch = configuration.fetch {
            let destination = (configuration.dataDirectory as NSString).appendingPathComponent("downloads/\(id)")
            let scratch = destination + ".\(UUID().uuidString)"
            do { try fetch(url, scratch); temporary = scratch; path = destination } catch { failure = "Failed to download file: \(error)" }
        } else {
            failure = "Failed to download file: \(url) is not reachable from the emulator"
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        try database.transaction { connection in
            guard let current = try connection.query("SELECT status, file_path FROM adb_jobs WHERE id = ?", [.text(id)]).first,
                  current["file_path"].string == nil else { return }
            if let path {
                if let temporary {
                    try? FileManager.default.removeItem(atPath: path)
                    try FileManager.default.moveItem(atPath: temporary, toPath: path)
                }
                try connection.execute("UPDATE adb_jobs SET file_path = ? WHERE id = ?", [.text(path), .text(id)])
            } else if ["Start", "Pending"].contains(current["status"].string ?? "") {
                let now = Date().timeIntervalSince1970
                try connection.execute("UPDATE adb_jobs SET status = 'Failed', error = ?, error_code = 'DownloadFailed', updated = ?, finished = ? WHERE id = ?",
                                       [.text(failure ?? "download failed"), .double(now), .double(now), .text(id)])
            }
        }
    }

    func step(_ row: Row, _ connection: Connection) throws {
        let id = row["id"].string!
        let now = Date().timeIntervalSince1970
        var status = row["status"].string!
        guard ["Start", "Pending", "Running", "Cancelling"].contains(status) else { return }
        if row["cancel_requested"].int == 1 {
            try connection.execute("UPDATE adb_jobs SET status = 'Cancelled', updated = ?, finished = ? WHERE id = ?",
                                   [.double(now), .double(now), .text(id)])
            return
        }
        guard let path = row["file_path"].string else { return }
        if row["kind"].string == "document" { try stepDocument(row, path: path, connection); return }
        let instance = row["instance"].string!, namespace = row["namespace"].string!, collection = row["collection"].string!
        var started = row["started"].double
        var total = row["total_rows"].int
        if status == "Start" {
            // Record any other import running on this collection at the same time: uploads must be serial.
            let others = try connection.query("""
                SELECT id FROM adb_jobs WHERE instance = ? AND namespace = ? AND collection = ? AND id != ?
                AND status IN ('Running', 'Cancelling')
                """, [.text(instance), .text(namespace), .text(collection), .text(id)])
            for other in others {
                try connection.execute("INSERT INTO adb_overlaps (job_id, other_job_id, collection, at) VALUES (?, ?, ?, ?)",
                                       [.text(id), .text(other["id"].string!), .text(collection), .double(now)])
            }
            total = Int64(try Self.countLines(path))
            started = now
            status = "Running"
            try connection.execute("UPDATE adb_jobs SET status = 'Running', started = ?, total_rows = ?, updated = ? WHERE id = ?",
                                   [.double(now), .int(total!), .double(now), .text(id)])
        }
        let done = row["progress"].int ?? 0
        var target = total ?? 0
        if let pace = row["pace"].double, pace > 0 {
            target = min(target, Int64(pace * (now - (started ?? now))))
        }
        target = min(target, done + 200_000) // bounded work per step
        var offset = row["next_offset"].int ?? 0
        var line = row["next_line"].int ?? 0
        var written = done
        if target > done {
            let result = try importRows(path: path, from: offset, line: line, count: Int(target - done),
                                        instance: instance, namespace: namespace, collection: collection, connection)
            offset = result.offset
            line = result.line
            written += Int64(result.rows)
            if let fault = result.fault {
                try connection.execute("""
                    UPDATE adb_jobs SET status = 'Failed', error = ?, progress = ?, next_offset = ?, next_line = ?, updated = ?, finished = ?
                    WHERE id = ?
                    """, [.text(fault), .int(written), .int(offset), .int(line), .double(now), .double(now), .text(id)])
                return
            }
        }
        let finished = written >= (total ?? 0)
        try connection.execute("""
            UPDATE adb_jobs SET progress = ?, next_offset = ?, next_line = ?, status = ?, updated = ?, finished = ? WHERE id = ?
            """, [.int(written), .int(offset), .int(line), .text(finished ? "Success" : "Running"), .double(now),
                  finished ? .double(now) : .null, .text(id)])
    }

    static func countLines(_ path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SourceFailure(message: "cannot open \(path)") }
        defer { try? handle.close() }
        var count = 0
        var last: UInt8 = 0x0A
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(handle.fileDescriptor, buffer.baseAddress!, buffer.count)
            if n <= 0 { break }
            let bytes = buffer.bindMemory(to: UInt8.self)
            for i in 0..<n where bytes[i] == 0x0A { count += 1 }
            last = bytes[n - 1]
        }
        if last != 0x0A { count += 1 }
        return count
    }

    /// Reads up to `count` rows from byte `offset` and upserts them. Stops at the first bad line.
    func importRows(path: String, from offset: Int64, line startLine: Int64, count: Int, instance: String, namespace: String,
                    collection: String, _ connection: Connection) throws -> (rows: Int, offset: Int64, line: Int64, fault: String?) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (0, offset, startLine, "Failed to read the data file.") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var rows = 0
        var position = offset
        var line = startLine
        var pending: [UInt8] = []
        var dimension = try connection.query("SELECT dimension FROM adb_collections WHERE instance = ? AND namespace = ? AND collection = ?",
                                             [.text(instance), .text(namespace), .text(collection)]).first?["dimension"].int
        while rows < count {
            let data = handle.readData(ofLength: 1 << 20)
            let atEnd = data.isEmpty
            pending.append(contentsOf: data)
            var start = 0
            while rows < count {
                let newline = pending[start...].firstIndex(of: 0x0A)
                guard let end = newline ?? (atEnd && start < pending.count ? pending.count : nil) else { break }
                let lineBytes = pending[start..<end]
                let consumed = Int64(end - start + (newline == nil ? 0 : 1))
                line += 1
                if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                    start = end + 1; position += consumed; continue
                }
                guard let value = try? JSON.parse(lineBytes), let rowID = value["Id"]?.stringValue, !rowID.isEmpty,
                      let vector = value["Vector"]?.arrayValue, !vector.isEmpty, vector.allSatisfy({ $0.doubleValue != nil }) else {
                    return (rows, position, line - 1, "Invalid data at line \(line): each line must be {\"Id\": string, \"Metadata\": object, \"Vector\": [numbers]}.")
                }
                if let dimension, dimension != Int64(vector.count) {
                    return (rows, position, line - 1, "Invalid data at line \(line): the vector has \(vector.count) dimensions, the collection has \(dimension).")
                }
                if dimension == nil {
                    dimension = Int64(vector.count)
                    try connection.execute("INSERT OR REPLACE INTO adb_collections (instance, namespace, collection, dimension) VALUES (?, ?, ?, ?)",
                                           [.text(instance), .text(namespace), .text(collection), .int(dimension!)])
                }
                try connection.execute("""
                    INSERT OR REPLACE INTO adb_rows (instance, namespace, collection, id, metadata, vector) VALUES (?, ?, ?, ?, ?, ?)
                    """, [.text(instance), .text(namespace), .text(collection), .text(rowID),
                          .text((value["Metadata"] ?? [:]).serialized()), .text(JSON.array(vector).serialized())])
                rows += 1
                position += consumed
                start = end + 1
            }
            pending.removeFirst(min(start, pending.count))
            if atEnd { break }
        }
        return (rows, position, line, nil)
    }
}
