import Foundation
import HTTP
import JSON
import Logging
import Profiles
import Signing

/// A failed VikingDB call: the API's envelope (`code`, `message`, `request_id`), a transport fault, or bad input.
public enum VikingDBError: Error, Sendable, CustomStringConvertible {
    case api(status: Int, code: String, message: String, requestID: String?, retryAfter: Duration?)
    case transport(HTTPError)
    case invalidResponse(String)
    case invalidInput(String)

    /// Throttling, server faults and transport errors: worth sending again (writes here are idempotent).
    public var isRetryable: Bool {
        switch self {
        case .api(let status, let code, _, _, _):
            return status == 429 || status >= 500 || ["RequestLimitExceeded", "ServiceUnavailable", "Timeout", "InternalError"].contains(code)
        case .transport: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .api(let status, let code, let message, let requestID, _):
            return "\(code): \(message) (HTTP \(status)\(requestID.map { ", request_id \($0)" } ?? ""))"
        case .transport(let error): return "VikingDB request failed: \(error.description)"
        case .invalidResponse(let detail): return "VikingDB returned an unexpected response: \(detail)"
        case .invalidInput(let message): return message
        }
    }
}

/// The VikingDB V2 data-plane client: signed (AK/SK) or API-key requests, the API's envelope, retries.
public struct VikingDBClient: Sendable {
    public static let userAgent = "vectorjobs/0.1 (VikingDB; Swift)"
    public let profile: Profile
    public let http: any HTTPClient
    let retry: RetryPolicy
    let logger = Logger(label: "vectorjobs.vikingdb")

    public init(profile: Profile, http: any HTTPClient, attempts: Int? = nil) {
        self.profile = profile
        self.http = http
        retry = RetryPolicy(attempts: attempts ?? profile.retryAttempts, baseDelay: profile.retryBaseDelay, maxDelay: profile.retryMaxDelay)
    }

    /// `https://api-vikingdb.vikingdb.{region}.volces.com`, or the profile's host.
    public var baseURL: String {
        let host = profile.host ?? "api-vikingdb.vikingdb.\(profile.region).volces.com"
        return host.contains("://") ? host : "https://\(host)"
    }

    /// How a call names its collection.
    public enum Target: Sendable, Equatable {
        case name(String)
        case resourceID(String)

        var fields: [(String, JSON)] {
            switch self {
            case .name(let n): return [("collection_name", .string(n))]
            case .resourceID(let id): return [("resource_id", .string(id))]
            }
        }

        public var label: String {
            switch self {
            case .name(let n): return n
            case .resourceID(let id): return id
            }
        }
    }

    func body(_ target: Target, _ rest: [(String, JSON)]) -> JSON {
        var members = target.fields
        if let project = profile.projectName { members.append(("project_name", .string(project))) }
        return .object(JSONObject(members + rest))
    }

    public func upsert(_ target: Target, data: [JSON], ttl: Int64? = nil, async: Bool? = nil, ignoreUnknownFields: Bool? = nil) async throws(VikingDBError) -> JSON {
        var rest: [(String, JSON)] = [("data", .array(data))]
        if let ttl { rest.append(("ttl", .int(ttl))) }
        if let async { rest.append(("async", .bool(async))) }
        if let ignoreUnknownFields { rest.append(("ignore_unknown_fields", .bool(ignoreUnknownFields))) }
        return try await post("/api/vikingdb/data/upsert", body: body(target, rest))
    }

    public func update(_ target: Target, data: [JSON], ttl: Int64? = nil) async throws(VikingDBError) -> JSON {
        var rest: [(String, JSON)] = [("data", .array(data))]
        if let ttl { rest.append(("ttl", .int(ttl))) }
        return try await post("/api/vikingdb/data/update", body: body(target, rest))
    }

    public func delete(_ target: Target, ids: [JSON]?, deleteAll: Bool) async throws(VikingDBError) -> JSON {
        var rest: [(String, JSON)] = []
        if let ids { rest.append(("ids", .array(ids))) }
        if deleteAll { rest.append(("del_all", true)) }
        return try await post("/api/vikingdb/data/delete", body: body(target, rest))
    }

    public func fetch(_ target: Target, ids: [JSON]) async throws(VikingDBError) -> JSON {
        try await post("/api/vikingdb/data/fetch_in_collection", body: body(target, [("ids", .array(ids))]))
    }

    /// One request, signed anew for each attempt; retryable failures are retried with back-off honouring `Retry-After`.
    public func post(_ path: String, body: JSON) async throws(VikingDBError) -> JSON {
        let bytes = body.serializedBytes()
        var attempt = 0
        while true {
            attempt += 1
            let failure: VikingDBError
            do {
                return try await send(path, bytes: bytes)
            } catch {
                failure = error
            }
            guard failure.isRetryable, attempt < retry.attempts else { throw failure }
            var advice: Duration?
            if case .api(_, _, _, _, let after) = failure { advice = after }
            let delay = retry.delay(beforeRetry: attempt, serverAdvice: advice)
            logger.debug("retrying", metadata: ["path": "\(path)", "attempt": "\(attempt)", "error": "\(failure)"])
            try? await Task.sleep(for: delay)
        }
    }

    func send(_ path: String, bytes: [UInt8]) async throws(VikingDBError) -> JSON {
        var headers: [(String, String)] = [("Accept", "application/json"), ("Content-Type", "application/json"), ("User-Agent", Self.userAgent)]
        let host = URLComponents(string: baseURL)?.host.map { h in URLComponents(string: baseURL)?.port.map { "\(h):\($0)" } ?? h } ?? ""
        if let apiKey = profile.credentials.apiKey {
            headers.append(("Authorization", "Bearer \(apiKey)"))
        } else {
            headers.append(("Host", host))
            let signer = VolcengineSigner(accessKeyID: profile.credentials.accessKeyID ?? "", secretAccessKey: profile.credentials.accessKeySecret ?? "",
                                          securityToken: profile.credentials.securityToken, region: profile.region)
            _ = signer.sign(method: "POST", path: path, query: [], headers: &headers, body: bytes, date: Date())
        }
        var request = HTTPRequest(method: "POST", url: baseURL + path, headers: headers, body: .bytes(bytes),
                                  timeout: profile.requestTimeout, connectTimeout: profile.connectTimeout)
        request.responseLimit = 64 << 20
        let response: HTTPResponse
        do { response = try await http.send(request) } catch { throw .transport(error) }
        let envelope = try? JSON.parse(response.body)
        let code = envelope?["code"]?.stringValue ?? envelope?["code"]?.intValue.map { String($0) }
        if response.status == 200, code == "Success" || code == "0" {
            return envelope ?? [:]
        }
        let retryAfter = response.header("Retry-After").flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
        throw .api(status: response.status, code: code ?? "HTTP\(response.status)",
                   message: envelope?["message"]?.stringValue ?? String(response.bodyText.prefix(200)),
                   requestID: envelope?["request_id"]?.stringValue, retryAfter: retryAfter)
    }
}

/// Limits rows sent per second to one collection: in no window of one second do more than `rowsPerSecond` rows
/// leave (a sliding log of recent sends, shared by every batch in flight).
public actor RowRateLimiter {
    public nonisolated let rowsPerSecond: Double
    private var sent: [(at: ContinuousClock.Instant, rows: Int)] = []
    private let window: Duration

    public init(rowsPerSecond: Double, window: Duration = .milliseconds(1050)) {
        self.rowsPerSecond = rowsPerSecond
        self.window = window
    }

    /// Waits until `rows` more rows fit in the budget of the last window, then records them.
    public func acquire(_ rows: Int) async {
        let budget = max(Int(rowsPerSecond), rows)
        while true {
            let now = ContinuousClock.now
            sent.removeAll { now - $0.at >= window }
            let used = sent.reduce(0) { $0 + $1.rows }
            if used + rows <= budget {
                sent.append((now, rows))
                return
            }
            // Wait until enough of the oldest sends leave the window.
            var freed = 0
            var until = now
            for entry in sent {
                freed += entry.rows
                until = entry.at + window
                if used - freed + rows <= budget { break }
            }
            try? await Task.sleep(until: until, clock: .continuous)
        }
    }
}
