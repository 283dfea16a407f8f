import JSON

/// A request id: a number or a string, as the client chose it.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    public init?(_ json: JSON) {
        switch json {
        case .int(let i): self = .int(i)
        case .double(let d) where d.rounded() == d: self = .int(Int64(d))
        case .string(let s): self = .string(s)
        default: return nil
        }
    }

    public var json: JSON {
        switch self {
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        }
    }

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return s.serializedForDisplay
        }
    }
}

extension String {
    fileprivate var serializedForDisplay: String { JSON.string(self).serialized() }
}

/// One JSON-RPC 2.0 message.
public enum Message: Sendable {
    case request(id: RequestID, method: String, params: JSON?)
    case notification(method: String, params: JSON?)
    case response(id: RequestID, result: JSON)
    case error(id: RequestID?, error: RPCError)

    /// Reads a message from a parsed JSON value.
    ///
    /// - Throws: the error reply to send, with the request's id when one could be read.
    public static func decode(_ json: JSON) throws(DecodingFailure) -> Message {
        guard case .object(let object) = json else {
            throw DecodingFailure(id: nil, error: .invalidRequest("a message must be a JSON object"))
        }
        let rawID = object["id"]
        let id = rawID.flatMap(RequestID.init)
        guard object["jsonrpc"] == .string("2.0") else {
            throw DecodingFailure(id: id, error: .invalidRequest("\"jsonrpc\" must be \"2.0\""))
        }
        if let rawID, rawID != .null, id == nil {
            throw DecodingFailure(id: nil, error: .invalidRequest("\"id\" must be a string or an integer"))
        }
        let params = object["params"]
        if let params, params.objectValue == nil, params.arrayValue == nil {
            throw DecodingFailure(id: id, error: .invalidRequest("\"params\" must be an object or an array"))
        }
        if let methodValue = object["method"] {
            guard case .string(let method) = methodValue, !method.isEmpty else {
                throw DecodingFailure(id: id, error: .invalidRequest("\"method\" must be a non-empty string"))
            }
            if let id { return .request(id: id, method: method, params: params) }
            if rawID == .null { throw DecodingFailure(id: nil, error: .invalidRequest("\"id\" must not be null")) }
            return .notification(method: method, params: params)
        }
        if let id, let result = object["result"] { return .response(id: id, result: result) }
        if let errorValue = object["error"], let code = errorValue["code"]?.intValue {
            let message = errorValue["message"]?.stringValue ?? ""
            return .error(id: id, error: RPCError(ErrorCode(rawValue: Int(code)), message, data: errorValue["data"]))
        }
        throw DecodingFailure(id: id, error: .invalidRequest("a request needs a \"method\""))
    }

    public var json: JSON {
        switch self {
        case .request(let id, let method, let params):
            var o: JSON = ["jsonrpc": "2.0", "id": id.json, "method": .string(method)]
            if let params { o["params"] = params }
            return o
        case .notification(let method, let params):
            var o: JSON = ["jsonrpc": "2.0", "method": .string(method)]
            if let params { o["params"] = params }
            return o
        case .response(let id, let result):
            return ["jsonrpc": "2.0", "id": id.json, "result": result]
        case .error(let id, let error):
            return ["jsonrpc": "2.0", "id": id?.json ?? .null, "error": error.json]
        }
    }

    public struct DecodingFailure: Error, Sendable {
        public let id: RequestID?
        public let error: RPCError
    }
}
