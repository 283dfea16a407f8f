import Foundation
import Signing
import Testing

/// One request of the official SDK's output, as the fixture file prints it.
struct SDKRequestVector {
    var title: String
    var algorithm: String
    var method: String
    var url: URLComponents
    var headers: [(String, String)]
    var body: String
    var canonicalRequest: String?
    var stringToSign: String?

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// Parses every `## …` block tagged [V3] or [V1].
    static func parseAll(_ text: String) -> [SDKRequestVector] {
        let blocks = text.components(separatedBy: String(repeating: "=", count: 100) + "\n").dropFirst()
        return blocks.compactMap { block in
            let lines = block.components(separatedBy: "\n")
            guard let title = lines.first, title.hasPrefix("## "),
                  let tag = ["[V3]", "[V1]"].first(where: { title.hasSuffix($0) }) else { return nil }
            let requestLine = lines[1].split(separator: " ", maxSplits: 1)
            var vector = SDKRequestVector(title: title, algorithm: tag, method: String(requestLine[0]),
                                          url: URLComponents(string: String(requestLine[1]))!, headers: [], body: "")
            var i = 2
            while i < lines.count, lines[i].hasPrefix("  ") && !lines[i].hasPrefix("  body (") {
                let line = lines[i].dropFirst(2)
                let colon = line.firstIndex(of: ":")!
                vector.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst())))
                i += 1
            }
            if i < lines.count, let range = lines[i].range(of: "): ") { vector.body = String(lines[i][range.upperBound...]) }
            func section(_ name: String) -> String? {
                guard let start = lines.firstIndex(of: "  --- \(name) ---") else { return nil }
                var out: [String] = []
                for line in lines[(start + 1)...] {
                    if line.hasPrefix("  --- ") || line.hasPrefix("  [") || line.hasPrefix("  Signature=") || !line.hasPrefix("  ") && !line.isEmpty { break }
                    out.append(String(line.dropFirst(2)))
                }
                return out.joined(separator: "\n")
            }
            vector.canonicalRequest = section("canonical request")
            vector.stringToSign = section("string to sign")
            return vector
        }
    }
}

@Suite struct SigningVectorTests {
    let vectors = SDKRequestVector.parseAll(try! Fixtures.text("analyticdb-sdk-output.txt"))

    func call(for v: SDKRequestVector) -> AlibabaRPCCall {
        let apiQuery = (v.url.queryItems ?? []).filter {
            !["Action", "Format", "Version", "Timestamp", "SignatureNonce", "SignatureMethod", "SignatureVersion",
              "AccessKeyId", "Signature", "SecurityToken"].contains($0.name) || v.algorithm == "[V3]"
        }
        let query = apiQuery.map { ($0.name, ($0.value ?? "").replacingOccurrences(of: "+", with: " ")) }
        let form = PercentEncoding.parseForm(Substring(v.body))
        return AlibabaRPCCall(method: v.method, host: v.header("host")!, action: v.header("x-acs-action")!,
                              version: v.header("x-acs-version")!, query: query, form: form)
    }

    func signer(for v: SDKRequestVector) -> AlibabaSigner {
        AlibabaSigner(
            credentials: AlibabaCredentials(accessKeyID: "testid", accessKeySecret: "testsecret",
                                            securityToken: v.header("x-acs-security-token")),
            algorithm: v.algorithm == "[V3]" ? .v3 : .v1,
            userAgent: v.header("user-agent")!,
            extraHeaders: [("x-acs-credentials-provider", v.header("x-acs-credentials-provider")!)])
    }

    static let date = ISO8601DateFormatter().date(from: "2023-10-26T10:22:32Z")!
    static let nonce = "3156853299f313e23d1673dc12e1703d"

    @Test func fixtureHasAllTheSDKRequests() {
        #expect(vectors.filter { $0.algorithm == "[V3]" }.count == 9)
        #expect(vectors.filter { $0.algorithm == "[V1]" }.count == 2)
    }

    @Test func v3RequestsMatchTheOfficialSDKByteForByte() {
        for v in vectors where v.algorithm == "[V3]" {
            let signed = signer(for: v).sign(call(for: v), date: Self.date, nonce: Self.nonce)
            #expect(signed.canonicalRequest == v.canonicalRequest, "\(v.title)")
            #expect(signed.stringToSign == v.stringToSign, "\(v.title)")
            #expect(String(decoding: signed.body, as: UTF8.self) == v.body, "\(v.title)")
            #expect(signed.method + " https://" + v.header("host")! + signed.target == v.method + " " + v.url.string!, "\(v.title)")
            // Same headers, same values, same order.
            #expect(signed.headers.map { "\($0.0): \($0.1)" } == v.headers.map { "\($0.0): \($0.1)" }, "\(v.title)")
        }
    }

    @Test func v1RequestsMatchTheOfficialSDKByteForByte() {
        for v in vectors where v.algorithm == "[V1]" {
            let signed = signer(for: v).sign(call(for: v), date: Self.date, nonce: Self.nonce)
            #expect(signed.stringToSign == v.stringToSign, "\(v.title)")
            #expect(String(decoding: signed.body, as: UTF8.self) == v.body, "\(v.title)")
            #expect("https://" + v.header("host")! + signed.target == v.url.string!, "\(v.title)")
            #expect(signed.headers.map { "\($0.0): \($0.1)" } == v.headers.map { "\($0.0): \($0.1)" }, "\(v.title)")
        }
    }

    @Test func aWrongSecretGivesADifferentSignature() {
        let v = vectors.first { $0.algorithm == "[V3]" }!
        var wrong = signer(for: v)
        wrong.credentials.accessKeySecret = "not-the-secret"
        let signed = wrong.sign(call(for: v), date: Self.date, nonce: Self.nonce)
        #expect(signed.headers.last?.1 != v.header("Authorization"))
    }
}
