import Foundation

/// An Alibaba Cloud access key, optionally with an STS security token.
///
/// `description` never shows the secret or the token.
public struct AlibabaCredentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var accessKeySecret: String
    public var securityToken: String?

    public init(accessKeyID: String, accessKeySecret: String, securityToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.accessKeySecret = accessKeySecret
        self.securityToken = securityToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { "AlibabaCredentials(accessKeyID: \(accessKeyID), secret: <redacted>)" }
}

/// An RPC-style call before signing: the action and its parameters, split between query and form body.
public struct AlibabaRPCCall: Sendable {
    public var method: String
    public var host: String
    public var action: String
    public var version: String
    public var query: [(String, String)]
    /// Form body parameters; empty means no body (and no content-type).
    public var form: [(String, String)]

    public init(method: String = "POST", host: String, action: String, version: String,
                query: [(String, String)], form: [(String, String)] = []) {
        self.method = method
        self.host = host
        self.action = action
        self.version = version
        self.query = query
        self.form = form
    }
}

/// A request ready to send: `target` is the path with its query string.
public struct SignedRequest: Sendable {
    public var method: String
    public var target: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The canonical request (V3) or string to sign (V1), for tests and debugging. Holds no secret.
    public var stringToSign: String
    public var canonicalRequest: String
}

/// Signs Alibaba Cloud RPC calls as the official SDKs do: `ACS3-HMAC-SHA256` (V3, the default) or HMAC-SHA1 (V1).
public struct AlibabaSigner: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case v3
        case v1
    }

    public var credentials: AlibabaCredentials
    public var algorithm: Algorithm
    public var userAgent: String
    /// Headers sent (and, for V3, signed) besides the protocol's own, such as `x-acs-credentials-provider`.
    public var extraHeaders: [(String, String)]

    public init(credentials: AlibabaCredentials, algorithm: Algorithm = .v3, userAgent: String,
                extraHeaders: [(String, String)] = []) {
        self.credentials = credentials
        self.algorithm = algorithm
        self.userAgent = userAgent
        self.extraHeaders = extraHeaders
    }

    /// Signs `call` at `date` with `nonce` (unique per request, and per retry).
    public func sign(_ call: AlibabaRPCCall, date: Date, nonce: String) -> SignedRequest {
        switch algorithm {
        case .v3: return signV3(call, date: date, nonce: nonce)
        case .v1: return signV1(call, date: date, nonce: nonce)
        }
    }

    /// A fresh nonce: 16 random bytes in hex.
    public static func makeNonce() -> String { Digest.randomBytes(16).hex }

    static func timestamp(_ date: Date) -> String { DateFormats.string(date, "yyyy-MM-dd'T'HH:mm:ss'Z'") }

    private func signV3(_ call: AlibabaRPCCall, date: Date, nonce: String) -> SignedRequest {
        let query = call.query.sorted { $0.0 < $1.0 }
        let body = call.form.isEmpty ? [] : Array(PercentEncoding.formBody(call.form.sorted { $0.0 < $1.0 }).utf8)
        var headers: [(String, String)] = [
            ("host", call.host),
            ("x-acs-version", call.version),
            ("x-acs-action", call.action),
            ("user-agent", userAgent),
            ("x-acs-date", Self.timestamp(date)),
            ("x-acs-signature-nonce", nonce),
            ("accept", "application/json"),
        ]
        if !body.isEmpty { headers.append(("content-type", "application/x-www-form-urlencoded")) }
        headers.append(("x-acs-content-sha256", Digest.sha256(body).hex))
        headers.append(contentsOf: extraHeaders)
        if let token = credentials.securityToken {
            headers.append(("x-acs-accesskey-id", credentials.accessKeyID))
            headers.append(("x-acs-security-token", token))
        }
        let canonical = ACS3.canonicalRequest(method: call.method, path: "/", query: query, headers: headers,
                                              payloadHash: Digest.sha256(body).hex)
        let signature = ACS3.signature(canonicalRequest: canonical.text, secret: credentials.accessKeySecret)
        headers.append(("Authorization",
                        "\(ACS3.algorithm) Credential=\(credentials.accessKeyID),SignedHeaders=\(canonical.signedHeaders),Signature=\(signature)"))
        let target = query.isEmpty ? "/" : "/?" + PercentEncoding.formBody(query)
        return SignedRequest(method: call.method, target: target, headers: headers, body: body,
                             stringToSign: ACS3.stringToSign(canonical.text), canonicalRequest: canonical.text)
    }

    private func signV1(_ call: AlibabaRPCCall, date: Date, nonce: String) -> SignedRequest {
        var query: [(String, String)] = [
            ("Action", call.action), ("Format", "json"), ("Version", call.version),
            ("Timestamp", Self.timestamp(date)), ("SignatureNonce", nonce),
        ]
        query.append(contentsOf: call.query.sorted { $0.0 < $1.0 })
        if let token = credentials.securityToken { query.append(("SecurityToken", token)) }
        query.append(contentsOf: [("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"),
                                  ("AccessKeyId", credentials.accessKeyID)])
        let stringToSign = V1.stringToSign(method: call.method, parameters: query + call.form)
        query.append(("Signature", V1.signature(stringToSign: stringToSign, secret: credentials.accessKeySecret)))
        let body = call.form.isEmpty ? [] : Array(PercentEncoding.formBody(call.form.sorted { $0.0 < $1.0 }).utf8)
        var headers: [(String, String)] = [
            ("host", call.host), ("x-acs-version", call.version), ("x-acs-action", call.action), ("user-agent", userAgent),
        ]
        if !body.isEmpty { headers.append(("content-type", "application/x-www-form-urlencoded")) }
        headers.append(contentsOf: extraHeaders)
        let target = "/?" + query.map { "\($0.0)=\(PercentEncoding.rfc3986($0.1))" }.joined(separator: "&")
        return SignedRequest(method: call.method, target: target, headers: headers, body: body,
                             stringToSign: stringToSign, canonicalRequest: "")
    }
}

/// The pieces of `ACS3-HMAC-SHA256`, shared by the signer and the emulator's verifier.
public enum ACS3 {
    public static let algorithm = "ACS3-HMAC-SHA256"

    public static func canonicalRequest(method: String, path: String, query: [(String, String)],
                                        headers: [(String, String)], payloadHash: String) -> (text: String, signedHeaders: String) {
        let canonicalQuery = canonicalPairs(query)
        let lowered = headers
            .filter { $0.0.lowercased() != "authorization" }
            .map { ($0.0.lowercased(), $0.1.trimmingCharacters(in: .whitespaces)) }
            .sorted { $0.0 < $1.0 }
        let canonicalHeaders = lowered.map { "\($0.0):\($0.1)\n" }.joined()
        let signedHeaders = lowered.map(\.0).joined(separator: ";")
        let text = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        return (text, signedHeaders)
    }

    public static func stringToSign(_ canonicalRequest: String) -> String {
        "\(algorithm)\n\(Digest.sha256(Array(canonicalRequest.utf8)).hex)"
    }

    public static func signature(canonicalRequest: String, secret: String) -> String {
        Digest.hmacSHA256(key: Array(secret.utf8), data: Array(stringToSign(canonicalRequest).utf8)).hex
    }
}

/// The pieces of the V1 (HMAC-SHA1) signature, shared by the signer and the emulator's verifier.
public enum V1 {
    public static func stringToSign(method: String, parameters: [(String, String)]) -> String {
        let canonical = canonicalPairs(parameters.filter { $0.0 != "Signature" })
        return "\(method)&\(PercentEncoding.rfc3986("/"))&\(PercentEncoding.rfc3986(canonical))"
    }

    public static func signature(stringToSign: String, secret: String) -> String {
        Data(Digest.hmacSHA1(key: Array((secret + "&").utf8), data: Array(stringToSign.utf8))).base64EncodedString()
    }
}

/// `k=v&k=v` with keys and values RFC 3986-encoded, sorted by key, then value.
func canonicalPairs(_ pairs: [(String, String)]) -> String {
    let encoded: [(String, String)] = pairs.map { pair in
        (PercentEncoding.rfc3986(pair.0), PercentEncoding.rfc3986(pair.1))
    }
    let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
        a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
    }
    return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
}
