import Foundation
import HTTP
import Signing

extension Emulator {
    /// Checks the request's V3 or V1 signature; returns the parameters (query and form body) when it holds.
    func authenticate(_ request: HTTPRequest, query: [(String, String)], body: [UInt8]) throws(APIError) -> [String: String] {
        let isForm = request.header("content-type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        let form = isForm ? PercentEncoding.parseForm(Substring(String(decoding: body, as: UTF8.self))) : []
        var parameters: [String: String] = [:]
        for (k, v) in query + form { parameters[k] = v }

        if let authorization = request.header("authorization") {
            try verifyV3(request, authorization: authorization, query: query, body: body)
        } else if let signature = parameters["Signature"] {
            try verifyV1(request, signature: signature, parameters: query + form)
        } else {
            throw APIError(400, "MissingParameter", "The input parameter \"Authorization\" or \"Signature\" that is mandatory for processing this request is not supplied.")
        }
        return parameters
    }

    private func account(_ id: String, token: String?) throws(APIError) -> Account {
        guard let account = configuration.accounts[id] else {
            throw APIError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        }
        if let expected = account.securityToken, expected != token {
            throw APIError(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid.")
        }
        return account
    }

    private func checkNonce(_ nonce: String?) throws(APIError) {
        guard let nonce, !nonce.isEmpty else {
            throw APIError(400, "MissingParameter", "The input parameter \"SignatureNonce\" that is mandatory for processing this request is not supplied.")
        }
        let fresh = recentNonces.withLock { state -> Bool in
            if state.set.contains(nonce) { return false }
            state.set.insert(nonce)
            state.order.append(nonce)
            if state.order.count > 50_000 { state.set.remove(state.order.removeFirst()) }
            return true
        }
        if !fresh { throw APIError(400, "SignatureNonceUsed", "Specified signature nonce was used already.") }
    }

    private func verifyV3(_ request: HTTPRequest, authorization: String, query: [(String, String)], body: [UInt8]) throws(APIError) {
        let prefix = ACS3.algorithm + " "
        guard authorization.hasPrefix(prefix) else {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. Unsupported algorithm.")
        }
        var fields: [String: String] = [:]
        for item in authorization.dropFirst(prefix.count).split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[pair[0].trimmingCharacters(in: .whitespaces)] = String(pair[1]) }
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. Authorization is incomplete.")
        }
        let account = try account(credential, token: request.header("x-acs-security-token"))
        try checkNonce(request.header("x-acs-signature-nonce"))
        let names = signedHeaders.split(separator: ";").map(String.init)
        for required in ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
            where !names.contains(required) {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. \(required) is not signed.")
        }
        if request.header("x-acs-security-token") != nil && !names.contains("x-acs-security-token") {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. x-acs-security-token is not signed.")
        }
        let payloadHash = Digest.sha256(body).hex
        guard request.header("x-acs-content-sha256") == payloadHash else {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. x-acs-content-sha256 does not match the body.")
        }
        var headers: [(String, String)] = []
        for name in names {
            guard let value = request.header(name) else {
                throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. Signed header \(name) is missing.")
            }
            headers.append((name, value))
        }
        let path = String(request.target.prefix { $0 != "?" })
        let canonical = ACS3.canonicalRequest(method: request.method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let expected = ACS3.signature(canonicalRequest: canonical.text, secret: account.secret)
        guard expected == signature else {
            throw APIError(400, "IncompleteSignature",
                           "The request signature does not conform to Aliyun standards. server string to sign is:\(ACS3.stringToSign(canonical.text))")
        }
    }

    private func verifyV1(_ request: HTTPRequest, signature: String, parameters: [(String, String)]) throws(APIError) {
        func value(_ key: String) -> String? { parameters.first { $0.0 == key }?.1 }
        guard value("SignatureMethod") == "HMAC-SHA1", value("SignatureVersion") == "1.0" else {
            throw APIError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. Unsupported SignatureMethod.")
        }
        guard let id = value("AccessKeyId") else {
            throw APIError(400, "MissingParameter", "The input parameter \"AccessKeyId\" that is mandatory for processing this request is not supplied.")
        }
        let account = try account(id, token: value("SecurityToken"))
        try checkNonce(value("SignatureNonce"))
        let stringToSign = V1.stringToSign(method: request.method, parameters: parameters)
        guard V1.signature(stringToSign: stringToSign, secret: account.secret) == signature else {
            throw APIError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:\(stringToSign)")
        }
    }
}
