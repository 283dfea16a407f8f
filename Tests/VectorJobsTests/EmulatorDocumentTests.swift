import Foundation
import HTTP
import JSON
import Signing
import Testing
@testable import Emulator

@Suite struct ChunkerTests {
    func write(_ text: String, _ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(UUID().uuidString)-\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func chunksStayWithinTheSizeAndOverlap() throws {
        let text = (0..<40).map { "Sentence number \($0) is here." }.joined(separator: " ")
        let chunks = try Chunker.chunks(path: write(text, "a.txt"), fileName: "a.txt", loader: nil, size: 120, overlap: 30, separators: nil, metadata: nil)
        #expect(chunks.count > 5)
        #expect(chunks.allSatisfy { $0.text.count <= 120 })
        // Neighbours share text (the overlap).
        for (a, b) in zip(chunks, chunks.dropFirst()) {
            let tail = String(a.text.suffix(20))
            #expect(b.text.contains(tail.split(separator: " ").last.map(String.init) ?? "#"), "\(a.text) | \(b.text)")
        }
    }

    @Test func separatorsAreHonoured() throws {
        let text = "alpha|beta|gamma|delta|epsilon"
        let chunks = try Chunker.chunks(path: write(text, "s.txt"), fileName: "s.txt", loader: nil, size: 12, overlap: 0, separators: ["|"], metadata: nil)
        #expect(chunks.map(\.text) == ["alpha|beta", "gamma|delta", "epsilon"])
    }

    @Test func htmlJSONAndCSVAreReadAsText() throws {
        let html = try Chunker.chunks(path: write("<html><style>x{}</style><h1>Title</h1><p>Body &amp; more</p><script>no()</script></html>", "p.html"),
                                      fileName: "p.html", loader: nil, size: 500, overlap: 0, separators: nil, metadata: nil)
        #expect(html.map(\.text) == ["Title\nBody & more"])
        let json = try Chunker.chunks(path: write(#"{"a":{"b":"c"},"list":[1,"two"]}"#, "d.json"), fileName: "d.json", loader: nil,
                                      size: 500, overlap: 0, separators: nil, metadata: ["k": "v"])
        #expect(json.first?.text == "a.b: c\nlist[0]: 1\nlist[1]: two")
        #expect(json.first?.metadata["k"] == "v" && json.first?.metadata["source"] == "d.json")
        let csv = try Chunker.chunks(path: write("name,note\nx,\"a, b\"\ny,plain\n", "t.csv"), fileName: "t.csv", loader: nil, size: 500,
                                     overlap: 0, separators: nil, metadata: nil)
        #expect(csv.first?.text == "name: x\nnote: a, b\n\nname: y\nnote: plain")
    }

    @Test func unsupportedDocumentsFailWithACode() throws {
        #expect(throws: Chunker.Failure.self) {
            _ = try Chunker.chunks(path: write("%PDF-1.4", "x.pdf"), fileName: "x.pdf", loader: nil, size: 100, overlap: 0, separators: nil, metadata: nil)
        }
    }

    @Test func embeddingsAreDeterministicUnitVectors() {
        let a = Chunker.embedding("hello", dimension: 64)
        #expect(a == Chunker.embedding("hello", dimension: 64))
        #expect(a != Chunker.embedding("hello!", dimension: 64))
        #expect(abs(a.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }
}

@Suite struct FilterSQLTests {
    @Test func translatesComparisonsWithBoundValues() throws {
        let (sql, parameters) = try FilterSQL.translate("year < 2020 AND (title = 'a ''b''' OR id IN ('x', 'y')) AND NOT tag IS NULL")
        #expect(sql == #"((json_extract(metadata, '$."year"') < ? AND (json_extract(metadata, '$."title"') = ? OR id IN (?, ?))) AND (NOT json_extract(metadata, '$."tag"') IS NULL))"#)
        #expect(parameters == [.int(2020), .text("a 'b'"), .text("x"), .text("y")])
    }

    @Test func rejectsInjectionAndNonsense() {
        for bad in ["title = 'x'; DROP TABLE adb_rows", "1 = 1", "title = ", "title ~ 'x'", "(a = 1"] {
            #expect(throws: FilterSQL.Failure.self, "\(bad)") { _ = try FilterSQL.translate(bad) }
        }
    }
}

@Suite struct DocumentQuotaTests {
    @Test func atMostTwentyDocumentsArePending() throws {
        let directory = NSTemporaryDirectory() + "vectorjobs-quota-\(UUID().uuidString)"
        let emulator = try Emulator(configuration: .init(dataDirectory: directory, accounts: ["ak": .init(secret: "sk")], pace: 0.001))
        let signer = AlibabaSigner(credentials: AlibabaCredentials(accessKeyID: "ak", accessKeySecret: "sk"), userAgent: "t")
        func submit() -> HTTPResponse {
            let call = AlibabaRPCCall(host: "h", action: "UploadDocumentAsync", version: "2016-05-03",
                                      query: [("RegionId", "cn-hangzhou"), ("DBInstanceId", "gp-q")],
                                      form: [("Collection", "kb"), ("NamespacePassword", "pw"), ("FileName", "a.txt"),
                                             ("FileUrl", "http://vectorjobs-emulator.oss-cn-hangzhou.aliyuncs.com/none")])
            let signed = signer.sign(call, date: Date(), nonce: AlibabaSigner.makeNonce())
            return emulator.handle(HTTPRequest(method: "POST", url: "http://h" + signed.target, headers: signed.headers, body: .bytes(signed.body)))
        }
        for _ in 0..<20 { #expect(submit().status == 200) }
        let refused = submit()
        #expect(refused.status == 400)
        #expect((try? JSON.parse(refused.body))?["Code"] == "Throttling.DocumentQuota")
    }
}
