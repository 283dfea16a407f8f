import AnalyticDB
import Foundation
import JSON
import Profiles
import Store

extension DocumentOptions {
    /// The options as stored with a job (they hold no secrets).
    public var json: JSON {
        var o: JSON = [:]
        if let chunkSize { o["chunk_size"] = JSON(chunkSize) }
        if let chunkOverlap { o["chunk_overlap"] = JSON(chunkOverlap) }
        if let loader { o["document_loader_name"] = .string(loader) }
        if let splitter { o["text_splitter_name"] = .string(splitter) }
        if let separators { o["separators"] = .array(separators.map(JSON.string)) }
        if let metadata { o["metadata"] = metadata }
        if let zhTitleEnhance { o["zh_title_enhance"] = .bool(zhTitleEnhance) }
        if let vlEnhance { o["vl_enhance"] = .bool(vlEnhance) }
        if let splitterModel { o["splitter_model"] = .string(splitterModel) }
        if let dryRun { o["dry_run"] = .bool(dryRun) }
        return o
    }

    public init(json: JSON) {
        self.init()
        chunkSize = json["chunk_size"]?.intValue.map(Int.init)
        chunkOverlap = json["chunk_overlap"]?.intValue.map(Int.init)
        loader = json["document_loader_name"]?.stringValue
        splitter = json["text_splitter_name"]?.stringValue
        separators = json["separators"]?.arrayValue?.compactMap(\.stringValue)
        metadata = json["metadata"]
        zhTitleEnhance = json["zh_title_enhance"]?.boolValue
        vlEnhance = json["vl_enhance"]?.boolValue
        splitterModel = json["splitter_model"]?.stringValue
        dryRun = json["dry_run"]?.boolValue
    }
}

extension JobManager {
    public static let documentKind = "adbpg.upload_document"
    /// The docs: a document is usually processed within 2 hours.
    static let documentDeadline: Double = 2 * 3600

    /// Records a document upload as `queued`; `runIfHead` submits it (documents do not queue behind each other:
    /// the service's own limit is 20 pending documents per account).
    public func createDocumentJob(profile: Profile, collection: String, namespace: String?, password: String?,
                                  source: JobSource, fileName: String, options: DocumentOptions) throws -> JobRecord {
        let id = JobID.make()
        let parameters: JSON = ["password_from_call": .bool(password != nil), "file_name": .string(fileName), "options": options.json]
        var record = JobRecord(id: id, profile: profile.name, provider: profile.provider.rawValue, kind: Self.documentKind,
                               queueKey: "document|\(id)", collection: collection, namespace: namespace,
                               source: source.json.serialized(), parameters: parameters.serialized(), progressUnit: "percent", now: Self.now)
        record.progressTotal = 100
        if let password { callPasswords.withLock { $0[id] = password } }
        try store.insert(record)
        logger.info("document job created", metadata: ["job": "\(id)", "collection": "\(collection)"])
        return record
    }

    func submitDocument(_ record: JobRecord, client: AnalyticDBClient, target: AnalyticDBClient.Target, fileURL: String) async throws(JobError) -> String {
        let parameters = (try? JSON.parse(record.parameters)) ?? [:]
        let fileName = parameters["file_name"]?.stringValue ?? "document.txt"
        let options = DocumentOptions(json: parameters["options"] ?? [:])
        do {
            return try await client.uploadDocumentAsync(target, fileURL: fileURL, fileName: fileName, options: options).jobID
        } catch {
            throw JobError(error.description)
        }
    }

    static func state(forDocumentStatus status: String) -> JobState {
        switch status {
        case "Success": return .succeeded
        case "Failed": return .failed
        case "Cancelled": return .cancelled
        case "Cancelling": return .cancelling
        default: return .running // Pending, Running
        }
    }

    /// Applies a GetUploadDocumentJob answer to the handle.
    func apply(document remote: AnalyticDBClient.DocumentJob, to id: String) -> JobRecord {
        let updated = try? store.database.transaction { connection -> JobRecord? in
            guard var record = try store.get(id, in: connection) else { return nil }
            guard !record.state.isTerminal else { return record }
            record.providerStatus = remote.status
            record.progressDone = max(record.progressDone, min(100, remote.percent))
            record.error = remote.error.map { message in remote.errorCode.map { "\($0): \(message)" } ?? message }
            record.lastPolledAt = Self.now
            record.updatedAt = Self.now
            record.state = Self.state(forDocumentStatus: remote.status)
            if record.state == .succeeded { record.progressDone = 100 }
            if !record.state.isTerminal, let deadline = record.deadline, Self.now > deadline {
                record.state = .failed
                record.error = "not done within the 2 hours the docs allow a document; the provider reported \(remote.status)"
            }
            try store.update(record, in: connection)
            return record
        }
        return (updated ?? nil) ?? ((try? store.get(id)) ?? nil)!
    }
}
