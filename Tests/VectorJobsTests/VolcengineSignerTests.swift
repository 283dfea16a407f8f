import Foundation
import Signing
import Testing

/// The VikingDB signer against requests produced by the official SDK's signer.
@Suite struct VolcengineSignerTests {
    struct Vector {
        var title: String
        var path: String
        var query: [(String, String)]
        var headers: [(String, String)]
        var body: String
        var authorization: String
        var canonical: String
    }

    static let vectors: [Vector] = {
        let text = try! Fixtures.text("vikingdb-sdk-output.txt")
        return text.components(separatedBy: String(repeating: "=", count: 78) + "\n").dropFirst().map { block in
            let lines = block.components(separatedBy: "\n")
            var v = Vector(title: lines[0], path: "", query: [], headers: [], body: "", authorization: "", canonical: "")
            for (i, line) in lines.enumerated() {
                if line.hasPrefix("path=") {
                    let parts = line.components(separatedBy: "  query=")
                    v.path = String(parts[0].dropFirst(5))
                    if let url = lines.first(where: { $0.hasPrefix("method=POST  url=") }), let q = url.split(separator: "?", maxSplits: 1).dropFirst().first {
                        v.query = PercentEncoding.parseForm(q)
                    }
                }
                if line.hasPrefix("method=POST  path=") { v.path = String(line.dropFirst(18).prefix { $0 != " " }) }
                // Header lines (indented) come before the body; Authorization and the signer's own headers are ours to add.
                if line.hasPrefix("  "), let colon = line.firstIndex(of: ":"), !line.hasPrefix("  Authorization"), v.body.isEmpty {
                    let name = line.dropFirst(2)[..<colon].trimmingCharacters(in: .whitespaces)
                    let value = String(line[line.index(after: colon)...].dropFirst())
                    if !["X-Date", "X-Content-Sha256"].contains(name) { v.headers.append((name, value)) }
                }
                if line.hasPrefix("body ("), let range = line.range(of: "): ") { v.body = String(line[range.upperBound...]) }
                if line.hasPrefix("EXPECTED Authorization: ") { v.authorization = String(line.dropFirst(24)) }
                if line == "--- canonical request ---" {
                    v.canonical = lines[(i + 1)...].prefix { $0 != "--- string to sign ---" }.joined(separator: "\n")
                }
            }
            return v
        }
    }()

    static let date = DateFormatter.vikingDate.date(from: "20250102T030405Z")!

    @Test func fixtureHasThreeVectors() {
        #expect(Self.vectors.count == 3)
        #expect(Self.vectors.allSatisfy { !$0.authorization.isEmpty && !$0.body.isEmpty })
    }

    @Test(arguments: 0..<3)
    func signsLikeTheOfficialSDK(index: Int) {
        let v = Self.vectors[index]
        let signer = VolcengineSigner(accessKeyID: "AKLTTESTACCESSKEY", secretAccessKey: "TESTSECRETKEY==", region: "cn-beijing")
        var headers = v.headers
        let result = signer.sign(method: "POST", path: v.path, query: v.query, headers: &headers, body: Array(v.body.utf8), date: Self.date)
        #expect(result.canonicalRequest == v.canonical, "\(v.title)")
        #expect(headers.last?.1 == v.authorization, "\(v.title)")
        let verdict = VolcengineSigner.verify(authorization: v.authorization, method: "POST", path: v.path, query: v.query,
                                              headers: headers, body: Array(v.body.utf8)) { $0 == "AKLTTESTACCESSKEY" ? "TESTSECRETKEY==" : nil }
        #expect(verdict == .valid(accessKeyID: "AKLTTESTACCESSKEY"))
        let wrong = VolcengineSigner.verify(authorization: v.authorization, method: "POST", path: v.path, query: v.query,
                                            headers: headers, body: Array(v.body.utf8)) { _ in "other" }
        #expect(wrong == .mismatch)
    }
}

extension DateFormatter {
    static let vikingDate: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f
    }()
}
