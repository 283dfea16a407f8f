import Foundation
import HTTP
import JSON
import Logging
import Profiles
import Signing

/// The AnalyticDB for PostgreSQL (gpdb, 2016-05-03) client: signed RPC calls with retries, and the local-file
/// upload flow (OpenPlatform AuthorizeFileUpload, then OSS PostObject streamed from disk).
public struct AnalyticDBClient: Sendable {
    public static let apiVersion = "2016-05-03"
    public static let userAgent = "vectorjobs/0.1 (AnalyticDB; Swift)"

    public let profile: Profile
    public let http: any HTTPClient
    let signer: AlibabaSigner
    let retry: RetryPolicy
    let logger = Logger(label: "vectorjobs.adbpg")

    public init(profile: Profile, http: any HTTPClient) {
        self.profile = profile
        self.http = http
        let credentials = AlibabaCredentials(accessKeyID: profile.credentials.accessKeyID ?? "",
                                             accessKeySecret: profile.credentials.accessKeySecret ?? "",
                                             securityToken: profile.credentials.securityToken)
        signer = AlibabaSigner(credentials: credentials, algorithm: profile.signature == "v1" ? .v1 : .v3,
                               userAgent: Self.userAgent)
        retry = RetryPolicy(attempts: profile.retryAttempts, baseDelay: profile.retryBaseDelay, maxDelay: profile.retryMaxDelay)
    }

    /// The target of calls: a namespace and collection, with the namespace password.
    public struct Target: Sendable {
        public var collection: String
        public var namespace: String?
        public var password: String

        public init(collection: String, namespace: String?, password: String) {
            self.collection = collection
            self.namespace = namespace
            self.password = password
        }
    }

    /// The instance parameters every gpdb call carries in its query.
    var instanceQuery: [(String, String)] {
        var q: [(String, String)] = [("RegionId", profile.region)]
        if let instance = profile.instance { q.append(("DBInstanceId", instance)) }
        if let workspace = profile.workspace { q.append(("WorkspaceId", workspace)) }
        return q
    }

    func targetForm(_ target: Target) -> [(String, String)] {
        var form: [(String, String)] = [("Collection", target.collection), ("NamespacePassword", target.password)]
        if let namespace = target.namespace { form.append(("Namespace", namespace)) }
        return form
    }

    // MARK: Operations

    public struct SubmitResult: Sendable {
        public var jobID: String
        public var requestID: String?
        public var message: String?
        public var raw: JSON
    }

    /// UpsertCollectionDataAsync with a file URL. Not retried once it may have reached the server.
    public func upsertCollectionDataAsync(_ target: Target, fileURL: String) async throws(AnalyticDBError) -> SubmitResult {
        let body = try await rpc("UpsertCollectionDataAsync", query: instanceQuery,
                                 form: targetForm(target) + [("FileUrl", fileURL)], idempotent: false)
        guard let jobID = body["JobId"]?.stringValue, !jobID.isEmpty else {
            if body["Status"]?.stringValue == "fail" {
                throw .api(status: 200, code: "Failed", message: body["Message"]?.stringValue ?? "the submit failed",
                           requestID: body["RequestId"]?.stringValue, recommend: nil)
            }
            throw .invalidResponse(action: "UpsertCollectionDataAsync", detail: "no JobId")
        }
        return SubmitResult(jobID: jobID, requestID: body["RequestId"]?.stringValue, message: body["Message"]?.stringValue, raw: body)
    }

    /// The `Job` object of GetUpsertCollectionDataJob, as the API returns it.
    public struct UpsertJob: Sendable {
        public var id: String
        public var status: String
        public var completed: Bool
        public var progress: Int64
        public var error: String?
        public var createTime: String?
        public var updateTime: String?
        public var raw: JSON
    }

    public func getUpsertCollectionDataJob(_ target: Target, jobID: String) async throws(AnalyticDBError) -> UpsertJob {
        let body = try await rpc("GetUpsertCollectionDataJob", query: instanceQuery,
                                 form: targetForm(target) + [("JobId", jobID)], idempotent: true)
        guard let job = body["Job"], let status = job["Status"]?.stringValue else {
            throw .invalidResponse(action: "GetUpsertCollectionDataJob", detail: "no Job.Status")
        }
        return UpsertJob(id: job["Id"]?.stringValue ?? jobID, status: status, completed: job["Completed"]?.boolValue ?? false,
                         progress: job["Progress"]?.intValue ?? 0, error: job["Error"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                         createTime: job["CreateTime"]?.stringValue, updateTime: job["UpdateTime"]?.stringValue, raw: body)
    }

    public func cancelUpsertCollectionDataJob(_ target: Target, jobID: String) async throws(AnalyticDBError) -> JSON {
        try await rpc("CancelUpsertCollectionDataJob", query: instanceQuery, form: targetForm(target) + [("JobId", jobID)], idempotent: true)
    }

    // MARK: Local files

    /// What OpenPlatform's AuthorizeFileUpload grants: a one-time OSS policy for one object.
    public struct UploadGrant: Sendable {
        public var accessKeyID: String
        public var bucket: String
        public var encodedPolicy: String
        public var endpoint: String
        public var objectKey: String
        public var signature: String
        public var useAccelerate: Bool
    }

    public func authorizeFileUpload() async throws(AnalyticDBError) -> UploadGrant {
        let endpoint = Endpoints.openPlatform(for: profile)
        let body = try await rpc("AuthorizeFileUpload", endpoint: endpoint, version: "2019-12-19", method: "GET",
                                 query: [("Product", "gpdb"), ("RegionId", profile.region)], form: [], idempotent: true)
        func field(_ name: String) throws(AnalyticDBError) -> String {
            guard let value = body[name]?.stringValue, !value.isEmpty else {
                throw .invalidResponse(action: "AuthorizeFileUpload", detail: "no \(name)")
            }
            return value
        }
        return UploadGrant(accessKeyID: try field("AccessKeyId"), bucket: try field("Bucket"), encodedPolicy: try field("EncodedPolicy"),
                           endpoint: try field("Endpoint"), objectKey: try field("ObjectKey"), signature: try field("Signature"),
                           useAccelerate: body["UseAccelerate"]?.boolValue ?? false)
    }

    /// The URL to POST the object to, by the profile's OSS endpoint kind.
    func ossURL(_ grant: UploadGrant) -> (url: String, hostField: String) {
        switch profile.oss {
        case .host(let host):
            let url = host.contains("://") ? host : "http://\(host)"
            return (url + "/", grant.endpoint)
        case .internal:
            var labels = grant.endpoint.split(separator: ".", maxSplits: 1).map(String.init)
            if !labels[0].hasSuffix("-internal") { labels[0] += "-internal" }
            let endpoint = labels.joined(separator: ".")
            return ("https://\(grant.bucket).\(endpoint)/", endpoint)
        case .accelerate:
            return ("https://\(grant.bucket).oss-accelerate.aliyuncs.com/", "oss-accelerate.aliyuncs.com")
        case .public:
            let endpoint = grant.useAccelerate ? "oss-accelerate.aliyuncs.com" : grant.endpoint
            return ("https://\(grant.bucket).\(endpoint)/", endpoint)
        }
    }

    /// Streams a local file to OSS with the grant's policy (PostObject), then returns the `FileUrl` for the call.
    /// `observer` sees every chunk of the file as it is sent; throwing from it aborts the upload.
    public func postObject(_ grant: UploadGrant, filePath: String, fileName: String? = nil,
                           observer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)? = nil) async throws(AnalyticDBError) -> String {
        let (url, hostField) = ossURL(grant)
        let boundary = "vectorjobs" + Digest.randomBytes(12).hex
        var head = ""
        for (name, value) in [("OSSAccessKeyId", grant.accessKeyID), ("Signature", grant.signature), ("host", hostField),
                              ("key", grant.objectKey), ("policy", grant.encodedPolicy), ("success_action_status", "201")] {
            head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName ?? grant.objectKey)\"\r\n"
        head += "Content-Type: application/octet-stream\r\n\r\n"
        let tail = "\r\n--\(boundary)--\r\n"
        var request = HTTPRequest(method: "POST", url: url, headers: [
            ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
            ("User-Agent", Self.userAgent),
            ("Date", Self.httpDate(Date())),
        ], body: .stream([.bytes(Array(head.utf8)), .file(path: filePath), .bytes(Array(tail.utf8))]),
           timeout: .seconds(3600), connectTimeout: profile.connectTimeout)
        request.bodyObserver = observer

        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch {
                switch error {
                case .aborted, .unreadableFile: throw .transport(error, action: "OSS PostObject")
                default: guard attempt < retry.attempts else { throw .transport(error, action: "OSS PostObject") }
                }
                try? await Task.sleep(for: retry.delay(beforeRetry: attempt))
                continue
            }
            if (200..<300).contains(response.status) {
                return "http://\(grant.bucket).\(grant.endpoint)/\(grant.objectKey)"
            }
            guard response.status >= 500, attempt < retry.attempts else { throw Self.ossError(response) }
            try? await Task.sleep(for: retry.delay(beforeRetry: attempt))
        }
    }

    static func ossError(_ response: HTTPResponse) -> AnalyticDBError {
        let text = response.bodyText
        func tag(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        return .api(status: response.status, code: tag("Code") ?? "OSSError", message: tag("Message") ?? "OSS refused the upload",
                    requestID: tag("RequestId"), recommend: nil)
    }

    static func httpDate(_ date: Date) -> String { DateFormats.string(date, "EEE, dd MMM yyyy HH:mm:ss 'GMT'", zone: "GMT") }

    /// The whole local-file flow: authorize, stream to OSS, and return the FileUrl to submit.
    public func uploadLocalFile(_ path: String, observer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)? = nil) async throws(AnalyticDBError) -> String {
        let grant = try await authorizeFileUpload()
        return try await postObject(grant, filePath: path, observer: observer)
    }

    // MARK: Calls

    /// One signed RPC call with retries: throttling, 5xx and transport errors are retried with jittered back-off,
    /// honouring `x-acs-retry-after`; every attempt is signed anew (fresh date and nonce). A call that is not
    /// idempotent is retried only when the failure proves the server never acted on it.
    public func rpc(_ action: String, endpoint: String? = nil, version: String = AnalyticDBClient.apiVersion, method: String = "POST",
                    query: [(String, String)], form: [(String, String)], idempotent: Bool) async throws(AnalyticDBError) -> JSON {
        let (call, base) = rpcCall(action, endpoint: endpoint, version: version, method: method, query: query, form: form)
        var attempt = 0
        while true {
            attempt += 1
            let signed = signer.sign(call, date: Date(), nonce: AlibabaSigner.makeNonce())
            var request = HTTPRequest(method: method, url: base + signed.target, headers: signed.headers,
                                      body: signed.body.isEmpty ? .empty : .bytes(signed.body),
                                      timeout: profile.requestTimeout, connectTimeout: profile.connectTimeout)
            request.responseLimit = 16 << 20
            let failure: AnalyticDBError
            var advice: Duration?
            switch await exchange(request, action: action) {
            case .success(let json):
                return json
            case .failure(.answered(let error, let status, let retryAfter)):
                failure = error
                advice = retryAfter
                guard Self.isRetryable(error, status: status, idempotent: idempotent), attempt < retry.attempts else { throw failure }
            case .failure(.unanswered(let error)):
                failure = .transport(error, action: action)
                guard idempotent || !error.reachedServer, attempt < retry.attempts else { throw failure }
            case .failure(.final(let error)):
                throw error
            }
            let delay = retry.delay(beforeRetry: attempt, serverAdvice: advice)
            logger.notice("retrying after a failure", metadata: ["action": "\(action)", "attempt": "\(attempt)",
                                                                 "error": "\(failure)", "delay": "\(delay)"])
            try? await Task.sleep(for: delay)
        }
    }

    /// The unsigned call for an action, and the endpoint it goes to.
    func rpcCall(_ action: String, endpoint: String? = nil, version: String = AnalyticDBClient.apiVersion, method: String = "POST",
                 query: [(String, String)], form: [(String, String)]) -> (AlibabaRPCCall, String) {
        let base = endpoint ?? Endpoints.gpdb(for: profile)
        let host = URLComponents(string: base).map { ($0.host ?? "") + ($0.port.map { ":\($0)" } ?? "") } ?? base
        return (AlibabaRPCCall(method: method, host: host, action: action, version: version, query: query, form: form), base)
    }

    /// Signs a call as `rpc` would, at a given date and nonce (for comparing with the official SDK's requests).
    func sign(_ call: AlibabaRPCCall, date: Date, nonce: String, userAgent: String, extraHeaders: [(String, String)]) -> SignedRequest {
        var signer = self.signer
        signer.userAgent = userAgent
        signer.extraHeaders = extraHeaders
        return signer.sign(call, date: date, nonce: nonce)
    }

    enum ExchangeFailure: Error {
        case answered(AnalyticDBError, status: Int, retryAfter: Duration?)
        case unanswered(HTTPError)
        case final(AnalyticDBError)
    }

    private func exchange(_ request: HTTPRequest, action: String) async -> Result<JSON, ExchangeFailure> {
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch {
            return .failure(.unanswered(error))
        }
        guard (200..<300).contains(response.status) else {
            let advice = response.header("x-acs-retry-after").flatMap(Int.init).flatMap { $0 > 0 ? Duration.milliseconds($0) : nil }
            return .failure(.answered(Self.apiError(response), status: response.status, retryAfter: advice))
        }
        guard let json = try? JSON.parse(response.body), json.objectValue != nil else {
            return .failure(.final(.invalidResponse(action: action, detail: "the body is not a JSON object")))
        }
        return .success(json)
    }

    static func apiError(_ response: HTTPResponse) -> AnalyticDBError {
        let json = try? JSON.parse(response.body)
        return .api(status: response.status, code: json?["Code"]?.stringValue ?? "HTTP\(response.status)",
                    message: json?["Message"]?.stringValue ?? String(response.bodyText.prefix(200)),
                    requestID: json?["RequestId"]?.stringValue, recommend: json?["Recommend"]?.stringValue)
    }

    /// Throttling is refused before any work, so even a submit may be sent again; server errors only when idempotent.
    static func isRetryable(_ error: AnalyticDBError, status: Int, idempotent: Bool) -> Bool {
        guard case .api(_, let code, _, _, _) = error else { return false }
        if code.hasPrefix("Throttling") || status == 429 { return true }
        if code == "ServiceUnavailable" || status == 503 { return true }
        return idempotent && status >= 500
    }
}
