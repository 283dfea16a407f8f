import AnalyticDB
import Foundation
import JSON
import Jobs
import MCP
import Store

extension Tool {
    static let adbpgUploadDocumentAsync = Tool(
        name: "adbpg_upload_document_async",
        title: "AnalyticDB: upload a document (async)",
        description: """
            Uploads a document to an AnalyticDB knowledge-base collection as an asynchronous job \
            (UploadDocumentAsync): the service loads it, splits it into chunks, embeds and stores them. From a URL \
            (file_url) or a local file (file_path, streamed through OSS), up to 200 MB. Returns a job handle at once; \
            progress is in percent; the docs allow a document 2 hours. dry_run only chunks (no embeddings are made). \
            At most 20 documents may be pending or running per account.
            """,
        input: [
            "properties": Schema.collectionTarget([
                ("file_url", ["type": "string", "pattern": "^https?://", "description": "An http(s) URL the service can read (the API's FileUrl)."]),
                ("file_path", Schema.string("A local document inside files.allowed_roots, uploaded through OSS.")),
                ("file_name", ["type": "string", "minLength": 1, "pattern": "\\.[A-Za-z0-9]+$",
                               "description": "The document's name with its extension (the API's FileName); default: the local file's or the URL's name."]),
                ("metadata", ["type": "object", "description": "Metadata stored with every chunk (the API's Metadata), any JSON object."]),
                ("chunk_size", ["type": "integer", "minimum": 1, "maximum": 2048, "description": "Characters per chunk, at most 2048."]),
                ("chunk_overlap", ["type": "integer", "minimum": 0, "description": "Characters shared by neighbouring chunks, at most chunk_size."]),
                ("document_loader_name", ["type": "string", "enum": .array(DocumentLoader.allCases.map { .string($0.rawValue) })]),
                ("text_splitter_name", ["type": "string", "enum": .array(TextSplitter.allCases.map { .string($0.rawValue) })]),
                ("separators", ["type": "array", "items": ["type": "string"], "description": "Separators the splitter tries in order."]),
                ("zh_title_enhance", ["type": "boolean", "description": "Enhance Chinese titles."]),
                ("vl_enhance", ["type": "boolean", "description": "Use a vision-language model on images in the document."]),
                ("splitter_model", Schema.string("The model LLMSplitter uses.")),
                ("dry_run", ["type": "boolean", "description": "Only chunk the document: nothing is embedded or stored."]),
            ]),
            "required": ["collection"],
        ],
        output: ["properties": ["job": Schema.job], "required": ["job"]],
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        startsJob: true
    ) { arguments, context, environment throws(ToolFailure) in
        struct Arguments: Decodable {
            var profile: String?
            var collection: String
            var namespace: String?
            var namespace_password: String?
            var file_url: String?
            var file_path: String?
            var file_name: String?
            var chunk_size: Int?
            var chunk_overlap: Int?
            var document_loader_name: String?
            var text_splitter_name: String?
            var separators: [String]?
            var zh_title_enhance: Bool?
            var vl_enhance: Bool?
            var splitter_model: String?
            var dry_run: Bool?
        }
        let args = try decode(Arguments.self, from: arguments)
        guard (args.file_url == nil) != (args.file_path == nil) else {
            throw ToolFailure("give exactly one of file_url (a URL the service can read) or file_path (a local file)")
        }
        let (_, _) = try environment.adbpgTarget(profile: args.profile, collection: args.collection, namespace: args.namespace,
                                                 password: args.namespace_password)
        let profile = try environment.profile(args.profile, .adbpg)
        var options = DocumentOptions()
        options.chunkSize = args.chunk_size
        options.chunkOverlap = args.chunk_overlap
        options.loader = args.document_loader_name
        options.splitter = args.text_splitter_name
        options.separators = args.separators
        options.metadata = arguments["metadata"] // kept as given, member order included
        options.zhTitleEnhance = args.zh_title_enhance
        options.vlEnhance = args.vl_enhance
        options.splitterModel = args.splitter_model
        options.dryRun = args.dry_run

        let source: JobSource
        let defaultName: String
        if let path = args.file_path {
            let real = try FileAccess.check(path, environment: environment)
            let size = (try? FileManager.default.attributesOfItem(atPath: real)[.size] as? Int64) ?? 0
            guard size <= 200 * 1024 * 1024 else { throw ToolFailure("\(path) is \(size / 1_048_576) MB; documents may be at most 200 MB") }
            guard size > 0 else { throw ToolFailure("\(path) is empty") }
            source = .filePath(real, rows: 0)
            defaultName = (path as NSString).lastPathComponent
        } else {
            source = .fileURL(args.file_url!)
            defaultName = URLComponents(string: args.file_url!).map { ($0.path as NSString).lastPathComponent } ?? ""
        }
        let fileName = args.file_name ?? defaultName
        if let fault = options.fault(fileName: fileName) { throw ToolFailure(fault) }

        let record: JobRecord
        do {
            record = try environment.jobs.createDocumentJob(profile: profile, collection: args.collection, namespace: args.namespace,
                                                            password: args.namespace_password, source: source, fileName: fileName,
                                                            options: options)
        } catch {
            throw ToolFailure("cannot record the job: \(error)")
        }
        let current = try await environment.submit(record, context: context)
        return ["job": current.json]
    }
}
