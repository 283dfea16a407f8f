import Foundation
import HTTP
import JSON
import Signing

extension Emulator {
    func ossPath(key: String) -> String {
        let safe = key.split(separator: "/").filter { $0 != ".." && $0 != "." }.joined(separator: "/")
        return (configuration.dataDirectory as NSString).appendingPathComponent("oss/\(Self.bucket)/\(safe)")
    }

    /// The local file behind one of our own object URLs (`http://vectorjobs-emulator.oss-….aliyuncs.com/key`).
    func ossObjectPath(forURL url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host,
              host.hasPrefix(Self.bucket + ".") else { return nil }
        return ossPath(key: String(components.path.dropFirst()))
    }

    static func ossError(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>\(code)</Code>
              <Message>\(message)</Message>
              <RequestId>\(requestID())</RequestId>
              <HostId>\(bucket).oss-cn-hangzhou.aliyuncs.com</HostId>
            </Error>
            """
        return HTTPResponse(status: status, headers: [("Content-Type", "application/xml")], body: Array(body.utf8))
    }

    /// OSS PostObject: checks the policy signature from AuthorizeFileUpload, then stores the file part.
    func postObject(_ request: HTTPRequest) -> HTTPResponse {
        guard let boundary = MultipartReader.boundary(fromContentType: request.header("content-type") ?? "") else {
            return Self.ossError(400, "InvalidArgument", "The multipart body has no boundary.")
        }
        let staging = (configuration.dataDirectory as NSString).appendingPathComponent("oss/.incoming-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let form: MultipartReader.Result
        do {
            form = try MultipartReader.read(request.body, boundary: boundary, fileField: "file", filePath: staging)
        } catch {
            return Self.ossError(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data. \(error)")
        }
        guard let policy = form.fields["policy"], let signature = form.fields["Signature"], let keyID = form.fields["OSSAccessKeyId"],
              let key = form.fields["key"] else {
            return Self.ossError(400, "InvalidArgument", "OSSAccessKeyId, Signature, policy and key are required.")
        }
        guard keyID == ossAccessKeyID else { return Self.ossError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.") }
        let expected = Data(Digest.hmacSHA1(key: Array(ossSecret.utf8), data: Array(policy.utf8))).base64EncodedString()
        guard expected == signature else {
            return Self.ossError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
        }
        guard let decoded = Data(base64Encoded: policy), let document = try? JSON.parse(decoded) else {
            return Self.ossError(400, "InvalidPolicyDocument", "Invalid Policy: the policy is not base64-encoded JSON.")
        }
        if let expiration = document["expiration"]?.stringValue, let date = ISO8601DateFormatter().date(from: expiration), date < Date() {
            return Self.ossError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        }
        let allowedKey = document["conditions"]?.arrayValue?.compactMap { $0["key"]?.stringValue }.first
        guard allowedKey == nil || allowedKey == key else {
            return Self.ossError(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", \"\(allowedKey!)\"]")
        }
        guard form.fileName != nil else { return Self.ossError(400, "InvalidArgument", "The file part is missing.") }
        let destination = ossPath(key: key)
        do {
            try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.moveItem(atPath: staging, toPath: destination)
        } catch {
            return Self.ossError(500, "InternalError", "cannot store the object")
        }
        let status = Int(form.fields["success_action_status"] ?? "204") ?? 204
        let etag = "\"\(UUID().uuidString)\""
        return HTTPResponse(status: [200, 201, 204].contains(status) ? status : 204,
                            headers: [("ETag", etag), ("x-oss-request-id", Self.requestID())],
                            body: status == 201 ? Array("<PostResponse><Bucket>\(Self.bucket)</Bucket><Key>\(key)</Key><ETag>\(etag)</ETag></PostResponse>".utf8) : [])
    }

    /// GET of a stored object (so a FileUrl may also be fetched over HTTP).
    func getObject(path: String) -> HTTPResponse {
        var key = PercentEncoding.decode(Substring(path), plusAsSpace: false)
        if key.hasPrefix(Self.bucket + "/") { key.removeFirst(Self.bucket.count + 1) }
        guard let data = FileManager.default.contents(atPath: ossPath(key: key)) else {
            return Self.ossError(404, "NoSuchKey", "The specified key does not exist.")
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: Array(data))
    }
}
