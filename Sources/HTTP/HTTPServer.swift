#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A small threaded HTTP/1.1 server for loopback use (the emulator).
///
/// One thread per connection, keep-alive, `Content-Length` and chunked request bodies, `Expect: 100-continue`,
/// and absolute-form targets, so clients may use it as an HTTP proxy for any host. Bodies over `spoolThreshold`
/// are written to a temporary file and handed over as a streamed body, never held in memory.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    private let host: String
    private let requestedPort: UInt16
    private let spoolDirectory: String
    private let spoolThreshold: Int
    private let handler: Handler
    private let listener = Mutex<Int32>(-1)

    public init(host: String = "127.0.0.1", port: UInt16, spoolDirectory: String = NSTemporaryDirectory(),
                spoolThreshold: Int = 4 << 20, handler: @escaping Handler) {
        self.host = host
        self.requestedPort = port
        self.spoolDirectory = spoolDirectory
        self.spoolThreshold = spoolThreshold
        self.handler = handler
    }

    /// Binds, listens and starts accepting. Returns the bound port (useful with port 0).
    public func start() throws -> UInt16 {
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.socket("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = requestedPort.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerError.socket("cannot listen on \(host):\(requestedPort): \(message)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        listener.withLock { $0 = fd }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "http-accept"
        thread.start()
        return UInt16(bigEndian: actual.sin_port)
    }

    public func stop() {
        let fd = listener.withLock { fd -> Int32 in defer { fd = -1 }; return fd }
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    public enum ServerError: Error, CustomStringConvertible {
        case socket(String)
        public var description: String { switch self { case .socket(let m): return m } }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in
                var connection = Connection(fd: client, server: self)
                connection.run()
                close(client)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// One client connection: reads requests, answers them, until the client closes or asks to.
    private struct Connection {
        let fd: Int32
        let server: HTTPServer
        var buffer: [UInt8] = []
        var start = 0

        init(fd: Int32, server: HTTPServer) {
            self.fd = fd
            self.server = server
        }

        mutating func run() {
            while true {
                guard let head = readHead() else { return }
                let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count == 3 else { respond(HTTPResponse(status: 400), keepAlive: false); return }
                let method = String(parts[0])
                let target = String(parts[1])
                var headers: [(String, String)] = []
                for line in lines.dropFirst() where !line.isEmpty {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
                func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
                if header("expect")?.lowercased() == "100-continue" { writeAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }

                var spoolPath: String?
                let body: HTTPBody
                do {
                    if header("transfer-encoding")?.lowercased().contains("chunked") == true {
                        body = try readChunked(spoolPath: &spoolPath)
                    } else {
                        body = try readSized(Int(header("content-length") ?? "0") ?? 0, spoolPath: &spoolPath)
                    }
                } catch {
                    if let spoolPath { unlink(spoolPath) }
                    return
                }
                let url: String
                if target.hasPrefix("http://") || target.hasPrefix("https://") {
                    url = target
                } else {
                    url = "http://\(header("host") ?? "localhost")\(target)"
                }
                var request = HTTPRequest(method: method, url: url, headers: headers, body: body)
                request.timeout = .seconds(600)
                let response = server.handler(request)
                if let spoolPath { unlink(spoolPath) }
                if response.status == 0 { return } // the handler asks for a dropped connection
                let keepAlive = header("connection")?.lowercased() != "close"
                guard respond(response, keepAlive: keepAlive, head: method == "HEAD"), keepAlive else { return }
            }
        }

        @discardableResult
        mutating func respond(_ response: HTTPResponse, keepAlive: Bool, head: Bool = false) -> Bool {
            var text = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
            for (name, value) in response.headers where name.lowercased() != "content-length" {
                text += "\(name): \(value)\r\n"
            }
            text += "Content-Length: \(response.body.count)\r\n"
            text += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
            var bytes = Array(text.utf8)
            if !head { bytes.append(contentsOf: response.body) }
            return writeAll(bytes)
        }

        @discardableResult
        func writeAll(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                    if n < 0 { if errno == EINTR { continue }; return false }
                    offset += n
                }
                return true
            }
        }

        /// Reads more bytes into the buffer; false at end of stream.
        mutating func fill() -> Bool {
            if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
            if start > 1 << 20 { buffer.removeFirst(start); start = 0 }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }

        mutating func readHead() -> [UInt8]? {
            var scanned = 0 // bytes after `start` already searched; `fill` may move the buffer, `start` stays the anchor
            while true {
                var i = start + max(0, scanned - 3)
                while i + 3 < buffer.count {
                    if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                        let head = Array(buffer[start..<i])
                        start = i + 4
                        return head
                    }
                    i += 1
                }
                scanned = buffer.count - start
                if scanned > 1 << 20 { return nil }
                guard fill() else { return nil }
            }
        }

        mutating func take(upTo count: Int) -> ArraySlice<UInt8> {
            let n = min(count, buffer.count - start)
            defer { start += n }
            return buffer[start..<(start + n)]
        }

        mutating func readSized(_ length: Int, spoolPath: inout String?) throws -> HTTPBody {
            if length == 0 { return .empty }
            if length <= server.spoolThreshold {
                var body: [UInt8] = []
                body.reserveCapacity(length)
                while body.count < length {
                    if start == buffer.count { guard fill() else { throw ServerError.socket("closed") } }
                    body.append(contentsOf: take(upTo: length - body.count))
                }
                return .bytes(body)
            }
            let (path, file) = try makeSpool()
            spoolPath = path
            defer { try? file.close() }
            var remaining = length
            while remaining > 0 {
                if start == buffer.count { guard fill() else { throw ServerError.socket("closed") } }
                let piece = take(upTo: remaining)
                file.write(Data(piece))
                remaining -= piece.count
                if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
            }
            return .stream([.file(path: path)])
        }

        mutating func readLine() throws -> String {
            while true {
                if let nl = buffer[start...].firstIndex(of: 10) {
                    let line = String(decoding: buffer[start..<nl], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    start = nl + 1
                    return line
                }
                guard fill() else { throw ServerError.socket("closed") }
            }
        }

        mutating func readChunked(spoolPath: inout String?) throws -> HTTPBody {
            var memory: [UInt8] = []
            var file: FileHandle?
            defer { try? file?.close() }
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw ServerError.socket("bad chunk") }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                var remaining = size
                while remaining > 0 {
                    if start == buffer.count { guard fill() else { throw ServerError.socket("closed") } }
                    let piece = take(upTo: remaining)
                    remaining -= piece.count
                    if let file {
                        file.write(Data(piece))
                    } else {
                        memory.append(contentsOf: piece)
                        if memory.count > server.spoolThreshold {
                            let (path, handle) = try makeSpool()
                            spoolPath = path
                            handle.write(Data(memory))
                            memory = []
                            file = handle
                        }
                    }
                }
                _ = try readLine()
            }
            if let spoolPath { return .stream([.file(path: spoolPath)]) }
            return memory.isEmpty ? .empty : .bytes(memory)
        }

        func makeSpool() throws -> (String, FileHandle) {
            let path = (server.spoolDirectory as NSString).appendingPathComponent("vectorjobs-body-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                throw ServerError.socket("cannot create \(path)")
            }
            return (path, file)
        }

        static func reason(_ status: Int) -> String {
            switch status {
            case 200: return "OK"
            case 201: return "Created"
            case 204: return "No Content"
            case 400: return "Bad Request"
            case 403: return "Forbidden"
            case 404: return "Not Found"
            case 429: return "Too Many Requests"
            case 500: return "Internal Server Error"
            case 503: return "Service Unavailable"
            default: return "Status"
            }
        }
    }
}
