import JSON

/// A JSON-RPC error code, with the spec's and MCP's named values.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let parseError = ErrorCode(rawValue: -32700)
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    public static let invalidParams = ErrorCode(rawValue: -32602)
    public static let internalError = ErrorCode(rawValue: -32603)
    /// A tool that failed when called as a plain JSON-RPC method.
    public static let toolError = ErrorCode(rawValue: -32000)
    /// MCP 2026-07-28.
    public static let missingRequiredClientCapability = ErrorCode(rawValue: -32021)
    public static let unsupportedProtocolVersion = ErrorCode(rawValue: -32022)

    public var description: String { String(rawValue) }
}

/// An error reply: code, message and optional data.
public struct RPCError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var data: JSON?

    public init(_ code: ErrorCode, _ message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func parseError(_ message: String) -> RPCError { RPCError(.parseError, "Parse error: \(message)") }
    public static func invalidRequest(_ message: String) -> RPCError { RPCError(.invalidRequest, "Invalid request: \(message)") }
    public static func methodNotFound(_ method: String) -> RPCError { RPCError(.methodNotFound, "Method not found: \(method)") }
    public static func invalidParams(_ message: String, data: JSON? = nil) -> RPCError { RPCError(.invalidParams, message, data: data) }
    public static func internalError(_ message: String) -> RPCError { RPCError(.internalError, "Internal error: \(message)") }

    public var json: JSON {
        var o: JSON = ["code": JSON(code.rawValue), "message": .string(message)]
        if let data { o["data"] = data }
        return o
    }
}
