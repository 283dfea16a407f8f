import Foundation

/// A request body: nothing, bytes in memory, or parts streamed from memory and files (never loaded whole).
public enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    case stream([BodyPart])

    public enum BodyPart: Sendable {
        case bytes([UInt8])
        /// `length` bytes of the file at `path` starting at `offset`; nil length means to the end.
        case file(path: String, offset: Int64 = 0, length: Int64? = nil)
    }

    /// The total size in bytes.
    public func length() throws -> Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let b): return Int64(b.count)
        case .stream(let parts):
            return try parts.reduce(Int64(0)) { total, part in
                switch part {
                case .bytes(let b): return total + Int64(b.count)
                case .file(let path, let offset, let length):
                    if let length { return total + length }
                    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64 ?? 0
                    return total + max(0, size - offset)
                }
            }
        }
    }

    /// A sequential reader over the body.
    public func makeReader() -> BodyReader { BodyReader(self) }

    /// Reads the whole body into memory (for small bodies).
    public func readAll(limit: Int = 64 << 20) throws -> [UInt8] {
        if case .bytes(let b) = self { return b }
        var reader = makeReader()
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw HTTPError.bodyTooLarge(limit: limit) }
        }
    }
}

/// Reads an `HTTPBody` front to back.
public struct BodyReader: @unchecked Sendable {
    private var parts: [HTTPBody.BodyPart]
    private var index = 0
    private var memoryOffset = 0
    private var file: FileHandle?
    private var fileRemaining: Int64?
    /// Called with each chunk of the file parts as it is read (for validation or progress while streaming).
    public var observer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)?
    public private(set) var bytesRead: Int64 = 0

    init(_ body: HTTPBody) {
        switch body {
        case .empty: parts = []
        case .bytes(let b): parts = [.bytes(b)]
        case .stream(let p): parts = p
        }
    }

    /// Fills as much of `buffer` as the current part allows. Returns 0 at the end.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while index < parts.count {
            switch parts[index] {
            case .bytes(let bytes):
                let n = min(buffer.count, bytes.count - memoryOffset)
                if n > 0 {
                    bytes.withUnsafeBytes { src in
                        buffer.baseAddress!.copyMemory(from: src.baseAddress! + memoryOffset, byteCount: n)
                    }
                    memoryOffset += n
                    bytesRead += Int64(n)
                    return n
                }
                memoryOffset = 0
                index += 1
            case .file(let path, let offset, let length):
                if file == nil {
                    guard let handle = FileHandle(forReadingAtPath: path) else { throw HTTPError.unreadableFile(path) }
                    try handle.seek(toOffset: UInt64(offset))
                    file = handle
                    fileRemaining = length
                }
                var want = buffer.count
                if let remaining = fileRemaining { want = Int(min(Int64(want), remaining)) }
                let n = want == 0 ? 0 : Foundation.read(file!.fileDescriptor, buffer.baseAddress!, want)
                if n < 0 { throw HTTPError.unreadableFile(path) }
                if n > 0 {
                    if let remaining = fileRemaining { fileRemaining = remaining - Int64(n) }
                    return try deliver(buffer, n)
                }
                try? file?.close()
                file = nil
                fileRemaining = nil
                index += 1
            }
        }
        return 0
    }

    private mutating func deliver(_ buffer: UnsafeMutableRawBufferPointer, _ n: Int) throws -> Int {
        bytesRead += Int64(n)
        try observer?(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: HTTPBody
    /// Total time allowed for the exchange.
    public var timeout: Duration
    public var connectTimeout: Duration
    /// Sees each chunk of the body's file parts as it is sent; throwing aborts the request.
    public var bodyObserver: (@Sendable (UnsafeRawBufferPointer) throws -> Void)?
    /// When set, the response body is written to this file instead of memory (for downloads).
    public var responseBodyPath: String?
    /// The largest response body kept in memory.
    public var responseLimit: Int = 64 << 20

    public init(method: String, url: String, headers: [(String, String)] = [], body: HTTPBody = .empty,
                timeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(10)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    public func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }

    /// Path and query of the URL.
    public var target: String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let target = String(rest[slash...])
        return target.hasPrefix("?") ? "/" + target : target
    }

    /// `host[:port]` of the URL.
    public var authority: String {
        guard let schemeEnd = url.range(of: "://") else { return "" }
        let rest = url[schemeEnd.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

public enum HTTPError: Error, Sendable, CustomStringConvertible {
    /// The transport failed. `reachedServer` is false only when the request surely never reached the server
    /// (no connection could be made), which is when a non-idempotent call may be sent again.
    case transport(code: Int, message: String, reachedServer: Bool)
    case timedOut(reachedServer: Bool)
    case bodyTooLarge(limit: Int)
    case unreadableFile(String)
    case aborted(String)

    public var reachedServer: Bool {
        switch self {
        case .transport(_, _, let reached), .timedOut(let reached): return reached
        case .bodyTooLarge, .unreadableFile, .aborted: return false
        }
    }

    public var description: String {
        switch self {
        case .transport(_, let message, _): return "network error: \(message)"
        case .timedOut: return "the request timed out"
        case .bodyTooLarge(let limit): return "the response exceeded \(limit) bytes"
        case .unreadableFile(let path): return "cannot read \(path)"
        case .aborted(let why): return why
        }
    }
}

/// Sends HTTP requests. The libcurl client is the real one; the embedded backend provides another.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse
}
