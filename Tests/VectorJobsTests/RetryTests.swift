import AnalyticDB
import Emulator
import Foundation
import HTTP
import JSON
import Profiles
import Synchronization
import Testing

/// Retries against a loopback server that answers with scripted errors before handing over to the emulator.
@Suite struct RetryTests {
    final class ScriptedServer: Sendable {
        let emulator: Emulator
        let server: HTTPServer
        let port: UInt16
        let script: Mutex<[HTTPResponse]>
        let seen = Mutex<[(action: String, nonce: String, at: ContinuousClock.Instant)]>([])

        init(_ responses: [HTTPResponse]) throws {
            let directory = NSTemporaryDirectory() + "vectorjobs-retry-\(UUID().uuidString)"
            emulator = try Emulator(configuration: .init(dataDirectory: directory, accounts: ["ak": .init(secret: "sk-retry")]))
            script = Mutex(responses)
            let box = Mutex<ScriptedServer?>(nil)
            server = HTTPServer(port: 0, spoolDirectory: directory) { request in
                box.withLock { $0 }!.answer(request)
            }
            port = try server.start()
            box.withLock { $0 = self }
        }

        func answer(_ request: HTTPRequest) -> HTTPResponse {
            seen.withLock { $0.append((request.header("x-acs-action") ?? "", request.header("x-acs-signature-nonce") ?? "", .now)) }
            if let scripted = script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return scripted }
            return emulator.handle(request)
        }

        var client: AnalyticDBClient {
            var profile = Profile(name: "r", provider: .adbpg, region: "cn-hangzhou",
                                  credentials: Credentials(accessKeyID: "ak", accessKeySecret: "sk-retry"))
            profile.instance = "gp-r"
            profile.endpoint = "http://127.0.0.1:\(port)"
            profile.retryAttempts = 5
            profile.retryBaseDelay = .milliseconds(10)
            profile.retryMaxDelay = .seconds(2)
            return AnalyticDBClient(profile: profile, http: CurlClient())
        }
    }

    static func apiError(_ status: Int, _ code: String, retryAfterMs: Int? = nil) -> HTTPResponse {
        let body: JSON = ["RequestId": "R", "HostId": "h", "Code": .string(code), "Message": "scripted", "Recommend": ""]
        var headers = [("Content-Type", "application/json")]
        if let retryAfterMs { headers.append(("x-acs-retry-after", String(retryAfterMs))) }
        return HTTPResponse(status: status, headers: headers, body: body.serializedBytes())
    }

    let target = AnalyticDBClient.Target(collection: "c", namespace: nil, password: "pw")

    @Test func throttledCallsSucceedAfterBackOffThatHonoursRetryAfter() async throws {
        let rig = try ScriptedServer(Array(repeating: Self.apiError(400, "Throttling.User", retryAfterMs: 300), count: 3))
        let started = ContinuousClock.now
        let submitted = try await rig.client.upsertCollectionDataAsync(target, fileURL: "http://nowhere.invalid/x.jsonl")
        let elapsed = ContinuousClock.now - started
        #expect(!submitted.jobID.isEmpty)
        let attempts = rig.seen.withLock { $0 }
        #expect(attempts.count == 4)
        #expect(Set(attempts.map(\.nonce)).count == 4, "every attempt is signed with a fresh nonce")
        for (earlier, later) in zip(attempts, attempts.dropFirst()) { #expect(later.at - earlier.at >= .milliseconds(290)) }
        #expect(elapsed >= .milliseconds(870))
    }

    @Test func forbiddenIsNotRetried() async throws {
        let rig = try ScriptedServer([Self.apiError(403, "Forbidden.RAM")])
        do {
            _ = try await rig.client.getUpsertCollectionDataJob(target, jobID: "j")
            Issue.record("succeeded")
        } catch {
            #expect(error.code == "Forbidden.RAM")
            #expect(error.description.contains("RAM permission"))
        }
        #expect(rig.seen.withLock { $0.count } == 1)
    }

    @Test func aSubmitIsNotRetriedAfterAServerErrorButAReadIs() async throws {
        let submit = try ScriptedServer([Self.apiError(500, "InternalError")])
        await #expect(throws: AnalyticDBError.self) {
            _ = try await submit.client.upsertCollectionDataAsync(target, fileURL: "http://nowhere.invalid/x.jsonl")
        }
        #expect(submit.seen.withLock { $0.count } == 1)

        // 503 means the service refused before doing anything: even a submit is sent again.
        let read = try ScriptedServer([Self.apiError(503, "ServiceUnavailable")])
        let job = try await read.client.upsertCollectionDataAsync(target, fileURL: "http://nowhere.invalid/x.jsonl")
        #expect(read.seen.withLock { $0.count } == 2)
        // A read is retried after a 500.
        read.script.withLock { $0 = [Self.apiError(500, "InternalError")] }
        let got = try await read.client.getUpsertCollectionDataJob(target, jobID: job.jobID)
        #expect(got.id == job.jobID)
        #expect(read.seen.withLock { $0.count } == 4)
    }
}
