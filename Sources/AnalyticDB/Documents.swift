import Foundation
import JSON

/// The loaders and splitters UploadDocumentAsync accepts.
public enum DocumentLoader: String, CaseIterable, Sendable {
    case UnstructuredHTMLLoader, UnstructuredMarkdownLoader, PyMuPDFLoader, PyPDFLoader, RapidOCRPDFLoader,
         PDFWithImageRefLoader, JSONLoader, CSVLoader, RapidOCRLoader, UnstructuredFileLoader, ADBPGLoader
}

public enum TextSplitter: String, CaseIterable, Sendable {
    case ChineseRecursiveTextSplitter, RecursiveCharacterTextSplitter, SpacyTextSplitter, MarkdownHeaderTextSplitter, LLMSplitter
}

/// UploadDocumentAsync's optional parameters, as the API names them.
public struct DocumentOptions: Sendable {
    public var chunkSize: Int?
    public var chunkOverlap: Int?
    public var loader: String?
    public var splitter: String?
    public var separators: [String]?
    public var metadata: JSON?
    public var zhTitleEnhance: Bool?
    public var vlEnhance: Bool?
    public var splitterModel: String?
    public var dryRun: Bool?

    public init() {}

    public static let maxChunkSize = 2048

    /// Checks the documented limits; returns the first fault.
    public func fault(fileName: String) -> String? {
        guard let dot = fileName.lastIndex(of: "."), fileName.index(after: dot) < fileName.endIndex, dot != fileName.startIndex else {
            return "file_name \"\(fileName)\" needs an extension (such as .md, .pdf, .csv): the service picks its loader by it"
        }
        if let size = chunkSize, !(1...Self.maxChunkSize).contains(size) { return "chunk_size must be from 1 to \(Self.maxChunkSize), got \(size)" }
        if let overlap = chunkOverlap {
            if overlap < 0 { return "chunk_overlap must not be negative" }
            let size = chunkSize ?? 800
            if overlap > size { return "chunk_overlap (\(overlap)) must not exceed chunk_size (\(size))" }
        }
        if let loader, DocumentLoader(rawValue: loader) == nil {
            return "unknown document_loader_name \"\(loader)\"; known: \(DocumentLoader.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if let splitter, TextSplitter(rawValue: splitter) == nil {
            return "unknown text_splitter_name \"\(splitter)\"; known: \(TextSplitter.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if let metadata, metadata.objectValue == nil { return "metadata must be a JSON object" }
        return nil
    }

    /// The form parameters, serialized as the official SDK does (JSON compact, booleans as Python prints them).
    func form(fileName: String, fileURL: String) -> [(String, String)] {
        var form: [(String, String)] = [("FileName", fileName), ("FileUrl", fileURL)]
        if let chunkSize { form.append(("ChunkSize", String(chunkSize))) }
        if let chunkOverlap { form.append(("ChunkOverlap", String(chunkOverlap))) }
        if let loader { form.append(("DocumentLoaderName", loader)) }
        if let splitter { form.append(("TextSplitterName", splitter)) }
        if let separators { form.append(("Separators", JSON.array(separators.map(JSON.string)).serialized())) }
        if let metadata { form.append(("Metadata", metadata.serialized())) }
        if let zhTitleEnhance { form.append(("ZhTitleEnhance", Self.python(zhTitleEnhance))) }
        if let vlEnhance { form.append(("VlEnhance", Self.python(vlEnhance))) }
        if let splitterModel { form.append(("SplitterModel", splitterModel)) }
        if let dryRun { form.append(("DryRun", Self.python(dryRun))) }
        return form
    }

    /// The SDK formats booleans with Python's `str`: `True`, `False`.
    static func python(_ b: Bool) -> String { b ? "True" : "False" }
}

extension AnalyticDBClient {
    func uploadDocumentParameters(_ target: Target, fileURL: String, fileName: String, options: DocumentOptions)
        -> (query: [(String, String)], form: [(String, String)]) {
        (instanceQuery.filter { $0.0 != "WorkspaceId" }, targetForm(target) + options.form(fileName: fileName, fileURL: fileURL))
    }

    public func uploadDocumentAsync(_ target: Target, fileURL: String, fileName: String,
                                    options: DocumentOptions) async throws(AnalyticDBError) -> SubmitResult {
        if let fault = options.fault(fileName: fileName) { throw .invalidInput(fault) }
        let parameters = uploadDocumentParameters(target, fileURL: fileURL, fileName: fileName, options: options)
        let body = try await rpc("UploadDocumentAsync", query: parameters.query, form: parameters.form, idempotent: false)
        guard let jobID = body["JobId"]?.stringValue, !jobID.isEmpty else {
            throw .api(status: 200, code: "Failed", message: body["Message"]?.stringValue ?? "the submit failed",
                       requestID: body["RequestId"]?.stringValue, recommend: nil)
        }
        return SubmitResult(jobID: jobID, requestID: body["RequestId"]?.stringValue, message: body["Message"]?.stringValue, raw: body)
    }

    /// GetUploadDocumentJob: the job (Progress in percent), its chunk files and its embedding usage.
    public struct DocumentJob: Sendable {
        public var status: String
        public var completed: Bool
        public var percent: Int64
        public var error: String?
        public var errorCode: String?
        public var raw: JSON
    }

    public func getUploadDocumentJob(_ target: Target, jobID: String) async throws(AnalyticDBError) -> DocumentJob {
        let query = instanceQuery.filter { $0.0 != "WorkspaceId" }
        let body = try await rpc("GetUploadDocumentJob", query: query, form: targetForm(target) + [("JobId", jobID)], idempotent: true)
        guard let job = body["Job"], let status = job["Status"]?.stringValue else {
            throw .invalidResponse(action: "GetUploadDocumentJob", detail: "no Job.Status")
        }
        return DocumentJob(status: status, completed: job["Completed"]?.boolValue ?? false, percent: job["Progress"]?.intValue ?? 0,
                           error: job["Error"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                           errorCode: job["ErrorCode"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }, raw: body)
    }

    public func cancelUploadDocumentJob(_ target: Target, jobID: String) async throws(AnalyticDBError) -> JSON {
        let query = instanceQuery.filter { $0.0 != "WorkspaceId" }
        return try await rpc("CancelUploadDocumentJob", query: query, form: targetForm(target) + [("JobId", jobID)], idempotent: true)
    }

    /// The query parameters of the two calls that carry everything in the URL (password included: never log URLs).
    func urlTarget(_ target: Target) -> [(String, String)] {
        var q = instanceQuery + [("Collection", target.collection), ("NamespacePassword", target.password)]
        if let namespace = target.namespace { q.append(("Namespace", namespace)) }
        return q
    }

    /// Rows as the SDK serializes them: fields in the order Id, Metadata, SparseVector, Vector; metadata members as given.
    public static func sdkRows(_ rows: [JSON]) -> JSON {
        .array(rows.map { row in
            var out = JSONObject()
            if let id = row["Id"] { out["Id"] = id }
            if let metadata = row["Metadata"] { out["Metadata"] = metadata }
            if let sparse = row["SparseVector"] {
                out["SparseVector"] = ["Indices": sparse["Indices"] ?? [], "Values": sparse["Values"] ?? []]
            }
            if let vector = row["Vector"] { out["Vector"] = vector }
            return .object(out)
        })
    }

    /// The largest Rows body UpsertCollectionData takes.
    public static let maxSyncBodyBytes = 10 * 1024 * 1024

    /// UpsertCollectionData with rows already validated. Refuses bodies over 10 MB before sending anything.
    public func upsertCollectionData(_ target: Target, rows: JSON) async throws(AnalyticDBError) -> JSON {
        let text = rows.serialized()
        let encodedSize = PercentEncodingSize.form(text) + 5
        guard encodedSize <= Self.maxSyncBodyBytes else {
            throw .invalidInput("the rows make a \(String(format: "%.1f", Double(encodedSize) / 1_048_576)) MB request, over the 10 MB limit of UpsertCollectionData; write them to a JSONL file and use adbpg_upsert_collection_data_async")
        }
        let parameters = upsertParameters(target, rowsText: text)
        return try await rpc("UpsertCollectionData", query: parameters.query, form: parameters.form, idempotent: true)
    }

    func upsertParameters(_ target: Target, rowsText: String) -> (query: [(String, String)], form: [(String, String)]) {
        (urlTarget(target), [("Rows", rowsText)])
    }

    /// DeleteCollectionData by field values (`{"id": [...]}`) and/or a SQL WHERE filter.
    func deleteParameters(_ target: Target, collectionData: JSON?, filter: String?) -> [(String, String)] {
        var query = urlTarget(target)
        if let collectionData { query.append(("CollectionData", collectionData.serialized())) }
        if let filter { query.append(("CollectionDataFilter", filter)) }
        return query
    }

    public func deleteCollectionData(_ target: Target, collectionData: JSON?, filter: String?) async throws(AnalyticDBError) -> JSON {
        try await rpc("DeleteCollectionData", query: deleteParameters(target, collectionData: collectionData, filter: filter),
                      form: [], idempotent: true)
    }
}

/// Sizes of encodings without building them.
enum PercentEncodingSize {
    static func form(_ s: String) -> Int {
        var n = 0
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: " "):
                n += 1
            default:
                n += 3
            }
        }
        return n
    }
}
