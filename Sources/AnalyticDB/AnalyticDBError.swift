import HTTP

/// A failed AnalyticDB (or OpenPlatform/OSS) call. Messages carry the API's code, message and request id;
/// they never carry credentials or namespace passwords.
public enum AnalyticDBError: Error, Sendable, CustomStringConvertible {
    case api(status: Int, code: String, message: String, requestID: String?, recommend: String?)
    case transport(HTTPError, action: String)
    case invalidResponse(action: String, detail: String)
    case invalidInput(String)

    public var code: String? {
        if case .api(_, let code, _, _, _) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .api(let status, let code, let message, let requestID, let recommend):
            var text = "\(code): \(message) (HTTP \(status)"
            if let requestID { text += ", RequestId \(requestID)" }
            text += ")"
            if let hint = Self.hint(code) { text += ". \(hint)" } else if let recommend, !recommend.isEmpty { text += ". See \(recommend)" }
            return text
        case .transport(let error, let action):
            return "\(action) failed: \(error.description)"
        case .invalidResponse(let action, let detail):
            return "\(action) returned an unexpected response: \(detail)"
        case .invalidInput(let message):
            return message
        }
    }

    static func hint(_ code: String) -> String? {
        switch code {
        case "Forbidden.RAM": return "The access key lacks the RAM permission for this action; grant it (for example AliyunGPDBFullAccess) or use another profile"
        case "InvalidAccessKeyId.NotFound": return "Check credentials.access_key_id in the profile"
        case "IncompleteSignature", "SignatureDoesNotMatch": return "Check credentials.access_key_secret in the profile"
        case let c where c.hasPrefix("Throttling"): return "The API is throttling requests; retry later"
        default: return nil
        }
    }
}
