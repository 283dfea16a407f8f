import Foundation
import HTTP
import JSON
import Logging
import Signing
import Store
import Synchronization

/// An emulation of the AnalyticDB for PostgreSQL API (with OpenPlatform and OSS for local files) over SQLite.
///
/// It verifies V3 and V1 signatures, keeps namespaces, collections and rows, and runs import jobs through
/// Start → Running → Success/Failed/Cancelled. Jobs advance from their start time at an optional pace (rows per
/// second), computed whenever a job is looked at or the ticker runs, so any process on the same data directory
/// sees the same jobs move. Served in process (the embedded backend) or over HTTP by `vectorjobs emulate`.
public final class Emulator: Sendable {
    public struct Account: Sendable {
        public var secret: String
        /// When set, requests must carry this STS token.
        public var securityToken: String?
        public init(secret: String, securityToken: String? = nil) {
            self.secret = secret
            self.securityToken = securityToken
        }
    }

    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var accounts: [String: Account]
        /// Rows per second that import jobs write; nil for as fast as possible.
        public var pace: Double?
        /// Fetches a URL that is not one of the emulator's own objects into a file.
        public var fetch: (@Sendable (_ url: String, _ destination: String) throws -> Void)?
        /// VikingDB collections, with their fields.
        public var vikingCollections: [VikingCollection]
        /// VikingDB API keys accepted as `Authorization: Bearer …`.
        public var apiKeys: [String]
        /// VikingDB write rows per second per collection before `RequestLimitExceeded` (nil: no limit).
        public var vikingRowsPerSecond: Double?

        public init(dataDirectory: String, accounts: [String: Account], pace: Double? = nil,
                    fetch: (@Sendable (String, String) throws -> Void)? = nil,
                    vikingCollections: [VikingCollection] = VikingCollection.defaults, apiKeys: [String] = [],
                    vikingRowsPerSecond: Double? = nil) {
            self.dataDirectory = dataDirectory
            self.accounts = accounts
            self.pace = pace
            self.fetch = fetch
            self.vikingCollections = vikingCollections
            self.apiKeys = apiKeys
            self.vikingRowsPerSecond = vikingRowsPerSecond
        }
    }

    public let configuration: Configuration
    let database: Database
    let logger = Logger(label: "vectorjobs.emulator")
    /// The bucket and OSS credentials of the emulated OpenPlatform grants.
    static let bucket = "vectorjobs-emulator"
    let ossAccessKeyID: String
    let ossSecret: String
    let recentNonces = Mutex<(set: Set<String>, order: [String])>(([], []))
    private let tickerRunning = Mutex(false)
    /// Jobs whose file this process is fetching.
    let fetching = Mutex<Set<String>>([])

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        for sub in ["oss", "downloads"] {
            try FileManager.default.createDirectory(atPath: (configuration.dataDirectory as NSString).appendingPathComponent(sub),
                                                    withIntermediateDirectories: true)
        }
        database = try Database(path: (configuration.dataDirectory as NSString).appendingPathComponent("emulator.sqlite"))
        try database.execute(Self.schema)
        // The OSS signing key lives with the data, so every process on this directory accepts the others' grants.
        let rows = try database.query("SELECT value FROM emulator_settings WHERE key = 'oss_secret'")
        if let secret = rows.first?["value"].string {
            ossSecret = secret
        } else {
            let secret = Digest.randomBytes(20).hex
            try database.execute("INSERT OR IGNORE INTO emulator_settings (key, value) VALUES ('oss_secret', ?)", [.text(secret)])
            ossSecret = try database.query("SELECT value FROM emulator_settings WHERE key = 'oss_secret'").first!["value"].string!
        }
        ossAccessKeyID = "LTAI-emulator-oss"
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS emulator_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS emulator_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL,
            status INTEGER NOT NULL, at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS adb_namespaces (instance TEXT NOT NULL, namespace TEXT NOT NULL, password TEXT NOT NULL,
            PRIMARY KEY (instance, namespace));
        CREATE TABLE IF NOT EXISTS adb_collections (instance TEXT NOT NULL, namespace TEXT NOT NULL, collection TEXT NOT NULL,
            dimension INTEGER, PRIMARY KEY (instance, namespace, collection));
        CREATE TABLE IF NOT EXISTS adb_rows (instance TEXT NOT NULL, namespace TEXT NOT NULL, collection TEXT NOT NULL,
            id TEXT NOT NULL, metadata TEXT, vector TEXT NOT NULL, sparse_vector TEXT,
            PRIMARY KEY (instance, namespace, collection, id));
        CREATE TABLE IF NOT EXISTS adb_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, instance TEXT NOT NULL,
            namespace TEXT NOT NULL, collection TEXT NOT NULL, status TEXT NOT NULL, file_url TEXT NOT NULL,
            file_path TEXT, total_rows INTEGER, progress INTEGER NOT NULL DEFAULT 0, next_offset INTEGER NOT NULL DEFAULT 0,
            next_line INTEGER NOT NULL DEFAULT 0, error TEXT, pace REAL, created REAL NOT NULL, updated REAL NOT NULL,
            started REAL, finished REAL, cancel_requested INTEGER NOT NULL DEFAULT 0,
            file_name TEXT, options TEXT, result TEXT, error_code TEXT, chunk_host TEXT);
        CREATE TABLE IF NOT EXISTS viking_rows (collection TEXT NOT NULL, pk TEXT NOT NULL, fields TEXT NOT NULL,
            expire_at REAL, writes INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (collection, pk));
        CREATE TABLE IF NOT EXISTS viking_writes (id INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
            at REAL NOT NULL, rows INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS viking_writes_at ON viking_writes(collection, at);
        CREATE TABLE IF NOT EXISTS adb_overlaps (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,
            other_job_id TEXT NOT NULL, collection TEXT NOT NULL, at REAL NOT NULL);
        """

    // MARK: Entry point

    /// Answers one HTTP request. Never throws: every failure is an API error response.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let target = request.target
        let path = String(target.prefix { $0 != "?" })
        let query = target.firstIndex(of: "?").map { PercentEncoding.parseForm(target[target.index(after: $0)...]) } ?? []
        let action = request.header("x-acs-action") ?? query.first { $0.0 == "Action" }?.1
        let response: HTTPResponse
        let label: String
        if path.hasPrefix("/api/vikingdb/") {
            label = "VikingDB" + path.dropFirst("/api/vikingdb".count)
            response = viking(request, path: path)
        } else if path == "/_emulator/viking" {
            label = "VikingState"
            response = vikingState(query: query)
        } else if path == "/_emulator/state" {
            label = "State"
            response = stateResponse()
        } else if path == "/_emulator/faults" {
            label = "Faults"
            response = setFaults(request)
        } else if path == "/_emulator/rows" {
            label = "Rows"
            response = rowsResponse(query: query)
        } else if path.hasPrefix("/_emulator/chunks/") {
            label = "GetChunks"
            response = chunkFile(String(path.dropFirst("/_emulator/chunks/".count)))
        } else if let action {
            label = action
            response = rpc(request, action: action, query: query)
        } else if request.method == "POST", request.header("content-type")?.lowercased().hasPrefix("multipart/form-data") == true {
            label = "PostObject"
            response = postObject(request)
        } else if request.method == "GET", path.count > 1 {
            label = "GetObject"
            response = getObject(path: String(path.dropFirst()))
        } else {
            label = "Unknown"
            response = Self.error(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
        }
        try? database.execute("INSERT INTO emulator_requests (action, status, at) VALUES (?, ?, ?)",
                              [.text(label), .int(Int64(response.status)), .double(Date().timeIntervalSince1970)])
        return response
    }

    static func requestID() -> String { UUID().uuidString.uppercased() }

    static func json(_ status: Int, _ body: JSON) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json;charset=utf-8")], body: body.serializedBytes())
    }

    /// The API's error body: `{RequestId, HostId, Code, Message, Recommend}`.
    static func error(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        let requestID = requestID()
        var response = json(status, [
            "RequestId": .string(requestID), "HostId": "gpdb.aliyuncs.com", "Code": .string(code), "Message": .string(message),
            "Recommend": .string("https://api.aliyun.com/troubleshoot?q=\(code)&product=gpdb&requestId=\(requestID)"),
        ])
        response.headers += headers
        return response
    }

    struct APIError: Error {
        var response: HTTPResponse
        init(_ status: Int, _ code: String, _ message: String) { response = Emulator.error(status, code, message) }
    }

    // MARK: State for tests and benchmarks

    func stateResponse() -> HTTPResponse {
        do {
            let jobs = try database.query("SELECT id, collection, namespace, status, progress, total_rows, started, finished FROM adb_jobs ORDER BY created")
            let overlaps = try database.query("SELECT job_id, other_job_id, collection FROM adb_overlaps")
            let requests = try database.query("SELECT action, COUNT(*) AS n FROM emulator_requests GROUP BY action")
            return Self.json(200, [
                "jobs": .array(jobs.map { row in
                    ["id": JSON(row["id"].string), "collection": JSON(row["collection"].string), "namespace": JSON(row["namespace"].string),
                     "status": JSON(row["status"].string), "progress": .int(row["progress"].int ?? 0),
                     "total_rows": row["total_rows"].int.map(JSON.int) ?? .null,
                     "started": row["started"].double.map(JSON.double) ?? .null, "finished": row["finished"].double.map(JSON.double) ?? .null]
                }),
                "overlaps": .array(overlaps.map { ["job_id": JSON($0["job_id"].string), "other_job_id": JSON($0["other_job_id"].string),
                                                   "collection": JSON($0["collection"].string)] }),
                "requests": .object(JSONObject(requests.map { ($0["action"].string ?? "", .int($0["n"].int ?? 0)) })),
            ])
        } catch {
            return Self.error(500, "InternalError", "\(error)")
        }
    }

    // MARK: Ticker

    /// Advances running jobs every `interval` on a background thread (idempotent).
    public func startTicker(interval: Duration = .milliseconds(100)) {
        let already = tickerRunning.withLock { running -> Bool in defer { running = true }; return running }
        guard !already else { return }
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
                advanceActiveJobs()
            }
        }
        thread.name = "emulator-ticker"
        thread.start()
    }
}
