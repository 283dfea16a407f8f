internal import CCurl
import Foundation
import Synchronization

/// The HTTP client over libcurl.
///
/// Handles are pooled, so connections (and TLS sessions) are reused across requests. TLS is verified. Proxies come
/// from the environment as libcurl reads them (`http_proxy`, `https_proxy`, `HTTPS_PROXY`, `no_proxy`). Bodies
/// stream from their sources; transfers run on their own threads, never on the cooperative pool.
public final class CurlClient: HTTPClient, Sendable {
    private let pool = Mutex<[EasyHandle]>([])
    private let userAgent: String

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(userAgent: String = "vectorjobs") {
        _ = Self.globalInit
        self.userAgent = userAgent
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                continuation.resume(returning: Result { () throws(HTTPError) in try perform(request) })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        return try result.get()
    }

    /// Runs one exchange on the calling thread.
    public func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let handle = pool.withLock { $0.popLast() } ?? EasyHandle()
        defer { curl_easy_reset(handle.raw); pool.withLock { if $0.count < 16 { $0.append(handle) } } }
        let curl = handle.raw

        let context = TransferContext(request: request)
        if let path = request.responseBodyPath {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let file = FileHandle(forWritingAtPath: path) else { throw .unreadableFile(path) }
            context.responseFile = file
        }
        defer { try? context.responseFile?.close() }
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let userdata = unmanaged.toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip, and no content-type that we did not set ourselves.
        headerList = curl_slist_append(headerList, "Expect:")
        if request.header("content-type") == nil { headerList = curl_slist_append(headerList, "Content-Type:") }
        if request.header("accept") == nil { headerList = curl_slist_append(headerList, "Accept:") }
        defer { curl_slist_free_all(headerList) }

        _ = CCurl_easy_setopt_string(curl, CURLOPT_URL, request.url)
        _ = CCurl_easy_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = CCurl_easy_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
        _ = CCurl_easy_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
        _ = CCurl_easy_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1)
        _ = CCurl_easy_setopt_long(curl, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        _ = CCurl_easy_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        _ = CCurl_easy_setopt_string(curl, CURLOPT_USERAGENT, request.header("user-agent") ?? userAgent)
        _ = CCurl_easy_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList)
        _ = CCurl_easy_setopt_write_function(curl, curlWrite)
        _ = CCurl_easy_setopt_pointer(curl, CURLOPT_WRITEDATA, userdata)
        _ = CCurl_easy_setopt_header_function(curl, curlHeader)
        _ = CCurl_easy_setopt_pointer(curl, CURLOPT_HEADERDATA, userdata)

        let length: Int64
        do { length = try request.body.length() } catch { throw (error as? HTTPError) ?? .aborted("\(error)") }
        switch request.method {
        case "GET":
            _ = CCurl_easy_setopt_long(curl, CURLOPT_HTTPGET, 1)
        case "HEAD":
            _ = CCurl_easy_setopt_long(curl, CURLOPT_NOBODY, 1)
        default:
            _ = CCurl_easy_setopt_long(curl, CURLOPT_POST, 1)
            if request.method != "POST" { _ = CCurl_easy_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method) }
            _ = CCurl_easy_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(length))
            context.reader = request.body.makeReader()
            context.reader?.observer = request.bodyObserver
            _ = CCurl_easy_setopt_read_function(curl, curlRead)
            _ = CCurl_easy_setopt_pointer(curl, CURLOPT_READDATA, userdata)
        }

        let code = curl_easy_perform(curl)
        if let failure = context.failure { throw failure }
        var status = 0
        _ = CCurl_easy_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        if code != CURLE_OK {
            var requestSize = 0
            _ = CCurl_easy_getinfo_long(curl, CURLINFO_REQUEST_SIZE, &requestSize)
            let reached = requestSize > 0
            if code == CURLE_OPERATION_TIMEDOUT { throw .timedOut(reachedServer: reached) }
            let message = String(cString: curl_easy_strerror(code))
            throw .transport(code: Int(code.rawValue), message: message, reachedServer: reached)
        }
        return HTTPResponse(status: status, headers: context.headers, body: context.body)
    }

    private static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// One libcurl easy handle, freed when the last reference goes.
private final class EasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    init() { raw = curl_easy_init() }
    deinit { curl_easy_cleanup(raw) }
}

/// State shared with libcurl's callbacks for one transfer.
private final class TransferContext {
    let request: HTTPRequest
    var reader: BodyReader?
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var responseFile: FileHandle?
    var failure: HTTPError?

    init(request: HTTPRequest) { self.request = request }
}

private func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    let buffer = UnsafeRawBufferPointer(start: data, count: n)
    if let file = context.responseFile {
        file.write(Data(buffer))
        return n
    }
    if context.body.count + n > context.request.responseLimit {
        context.failure = .bodyTooLarge(limit: context.request.responseLimit)
        return 0
    }
    context.body.append(contentsOf: buffer)
    return n
}

private func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        context.headers.removeAll() // a new response (after 100 Continue or a redirect)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        context.headers.append((name, value))
    }
    return n
}

private func curlRead(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
    guard context.reader != nil, let data else { return 0 }
    do {
        return try context.reader!.read(into: UnsafeMutableRawBufferPointer(start: data, count: size * count))
    } catch {
        context.failure = (error as? HTTPError) ?? .aborted(String(describing: error))
        return CCurl_read_abort()
    }
}
