import Foundation

/// Volcengine's HMAC-SHA256 ("V4") signature for the VikingDB data plane.
///
/// Signs `Content-Type`, `Content-Md5`, `Host` (when present) and every `X-*` header; the credential scope is
/// `YYYYMMDD/{region}/{service}/request`.
public struct VolcengineSigner: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var securityToken: String?
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, securityToken: String? = nil, region: String, service: String = "vikingdb") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.securityToken = securityToken.flatMap { $0.isEmpty ? nil : $0 }
        self.region = region
        self.service = service
    }

    public static func xDate(_ date: Date) -> String { DateFormats.string(date, "yyyyMMdd'T'HHmmss'Z'") }

    /// Adds `X-Date`, `X-Content-Sha256`, `X-Security-Token` (with STS) and `Authorization` to `headers`.
    public func sign(method: String, path: String, query: [(String, String)], headers: inout [(String, String)],
                     body: [UInt8], date: Date) -> (canonicalRequest: String, stringToSign: String) {
        let xDate = Self.xDate(date)
        let bodyHash = Digest.sha256(body).hex
        headers.append(("X-Date", xDate))
        headers.append(("X-Content-Sha256", bodyHash))
        if let securityToken { headers.append(("X-Security-Token", securityToken)) }
        let signed = Self.signedHeaders(headers)
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, signed: signed, bodyHash: bodyHash)
        let scope = "\(xDate.prefix(8))/\(region)/\(service)/request"
        let stringToSign = "HMAC-SHA256\n\(xDate)\n\(scope)\n\(Digest.sha256(Array(canonical.utf8)).hex)"
        let signature = Digest.hmacSHA256(key: Self.signingKey(secret: secretAccessKey, date: String(xDate.prefix(8)), region: region, service: service),
                                          data: Array(stringToSign.utf8)).hex
        headers.append(("Authorization", "HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signed.map(\.0).joined(separator: ";")), Signature=\(signature)"))
        return (canonical, stringToSign)
    }

    /// The headers that are signed, lowercased and sorted.
    public static func signedHeaders(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { ($0.0.lowercased(), $0.1) }
            .filter { ["content-type", "content-md5", "host"].contains($0.0) || $0.0.hasPrefix("x-") }
            .sorted { $0.0 < $1.0 }
    }

    public static func canonicalRequest(method: String, path: String, query: [(String, String)], signed: [(String, String)], bodyHash: String) -> String {
        let canonicalPath = path.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.rfc3986(String($0)) }.joined(separator: "/")
        let canonicalQuery = canonicalPairs(query)
        let lines = signed.map { "\($0.0):\($0.1.trimmingCharacters(in: .whitespaces))\n" }.joined()
        return "\(method)\n\(canonicalPath)\n\(canonicalQuery)\n\(lines)\n\(signed.map(\.0).joined(separator: ";"))\n\(bodyHash)"
    }

    public static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array(secret.utf8), data: Array(date.utf8))
        for part in [region, service, "request"] { key = Digest.hmacSHA256(key: key, data: Array(part.utf8)) }
        return key
    }

    /// Checks an `Authorization` header against the request (the emulator's side).
    public static func verify(authorization: String, method: String, path: String, query: [(String, String)],
                              headers: [(String, String)], body: [UInt8], secret: (String) -> String?) -> VerifyResult {
        guard authorization.hasPrefix("HMAC-SHA256 ") else { return .malformed("unsupported algorithm") }
        var fields: [String: String] = [:]
        for item in authorization.dropFirst(12).split(separator: ",") {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let credential = fields["Credential"], let signedNames = fields["SignedHeaders"], let signature = fields["Signature"] else {
            return .malformed("Authorization is incomplete")
        }
        let parts = credential.split(separator: "/").map(String.init)
        guard parts.count == 5 else { return .malformed("bad credential scope") }
        guard let key = secret(parts[0]) else { return .unknownKey }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        let bodyHash = Digest.sha256(body).hex
        guard let sentHash = header("x-content-sha256"), sentHash == bodyHash else { return .malformed("X-Content-Sha256 does not match the body") }
        var signed: [(String, String)] = []
        for name in signedNames.split(separator: ";").map(String.init) {
            guard let value = header(name) else { return .malformed("signed header \(name) is missing") }
            signed.append((name, value))
        }
        guard let xDate = header("x-date") else { return .malformed("X-Date is missing") }
        let canonical = canonicalRequest(method: method, path: path, query: query, signed: signed, bodyHash: bodyHash)
        let scope = parts[1...].joined(separator: "/")
        let stringToSign = "HMAC-SHA256\n\(xDate)\n\(scope)\n\(Digest.sha256(Array(canonical.utf8)).hex)"
        let expected = Digest.hmacSHA256(key: signingKey(secret: key, date: parts[1], region: parts[2], service: parts[3]),
                                         data: Array(stringToSign.utf8)).hex
        return expected == signature ? .valid(accessKeyID: parts[0]) : .mismatch
    }

    public enum VerifyResult: Equatable, Sendable {
        case valid(accessKeyID: String)
        case unknownKey
        case mismatch
        case malformed(String)
    }
}
