import AnalyticDB
import Emulator
import Foundation
import HTTP
import Profiles
import Testing

/// The AnalyticDB client, over libcurl and real sockets, against the emulator behind the loopback HTTP server.
@Suite struct LoopbackClientTests {
    final class Rig: @unchecked Sendable {
        let directory: String
        let emulator: Emulator
        let server: HTTPServer
        let port: UInt16

        init(token: String? = nil, pace: Double? = nil) throws {
            directory = NSTemporaryDirectory() + "vectorjobs-tests-\(UUID().uuidString)"
            emulator = try Emulator(configuration: .init(dataDirectory: directory,
                                                         accounts: ["ak": .init(secret: "sk-123456", securityToken: token)], pace: pace))
            let emulator = self.emulator
            server = HTTPServer(port: 0, spoolDirectory: directory) { emulator.handle($0) }
            port = try server.start()
        }

        func profile(signature: String = "v3", secret: String = "sk-123456", token: String? = nil) -> Profile {
            var profile = Profile(name: "t", provider: .adbpg, region: "cn-hangzhou",
                                  credentials: Credentials(accessKeyID: "ak", accessKeySecret: secret, securityToken: token))
            profile.instance = "gp-t"
            profile.endpoint = "http://127.0.0.1:\(port)"
            profile.openPlatformEndpoint = "http://127.0.0.1:\(port)"
            profile.oss = .host("127.0.0.1:\(port)")
            profile.signature = signature
            profile.retryAttempts = 2
            profile.retryBaseDelay = .milliseconds(10)
            return profile
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func vectors(_ rows: Int) throws -> String {
        let path = NSTemporaryDirectory() + "vectors-\(UUID().uuidString).jsonl"
        let text = (0..<rows).map { #"{"Id":"r\#($0)","Metadata":{"i":"\#($0)"},"Vector":[\#($0),1.5,-2]}"# }.joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func runJob(_ client: AnalyticDBClient, rows: Int) async throws -> AnalyticDBClient.UpsertJob {
        let target = AnalyticDBClient.Target(collection: "c", namespace: nil, password: "pw")
        let url = try await client.uploadLocalFile(try vectors(rows))
        let submitted = try await client.upsertCollectionDataAsync(target, fileURL: url)
        for _ in 0..<100 {
            let job = try await client.getUpsertCollectionDataJob(target, jobID: submitted.jobID)
            if job.completed { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    @Test(arguments: ["v3", "v1"])
    func localFileFlowSucceeds(signature: String) async throws {
        let rig = try Rig()
        let job = try await runJob(AnalyticDBClient(profile: rig.profile(signature: signature), http: CurlClient()), rows: 250)
        #expect(job.status == "Success" && job.progress == 250)
    }

    @Test(arguments: ["v3", "v1"])
    func stsTokensAreSentAndChecked(signature: String) async throws {
        let rig = try Rig(token: "sts-token-abc")
        let ok = try await runJob(AnalyticDBClient(profile: rig.profile(signature: signature, token: "sts-token-abc"), http: CurlClient()), rows: 5)
        #expect(ok.status == "Success")
        await #expect(throws: AnalyticDBError.self) {
            _ = try await runJob(AnalyticDBClient(profile: rig.profile(signature: signature, token: "wrong"), http: CurlClient()), rows: 5)
        }
    }

    @Test(arguments: ["v3", "v1"])
    func aWrongSecretIsRefusedWithoutRetry(signature: String) async throws {
        let rig = try Rig()
        let client = AnalyticDBClient(profile: rig.profile(signature: signature, secret: "wrong-secret"), http: CurlClient())
        do {
            _ = try await client.getUpsertCollectionDataJob(.init(collection: "c", namespace: nil, password: "pw"), jobID: "x")
            Issue.record("accepted")
        } catch {
            #expect(error.code == (signature == "v3" ? "IncompleteSignature" : "SignatureDoesNotMatch"))
            #expect(!error.description.contains("wrong-secret"))
        }
    }

    @Test func aWrongNamespacePasswordIsRefused() async throws {
        let rig = try Rig()
        let client = AnalyticDBClient(profile: rig.profile(), http: CurlClient())
        _ = try await runJob(client, rows: 3)
        do {
            _ = try await client.getUpsertCollectionDataJob(.init(collection: "c", namespace: nil, password: "nope"), jobID: "x")
            Issue.record("accepted")
        } catch {
            #expect(error.code == "Namespace.PasswordInvalid")
        }
    }

    @Test func aTransportFailureBeforeConnectingSaysTheServerWasNotReached() async throws {
        var profile = try Rig().profile()
        profile.endpoint = "http://127.0.0.1:1"
        let client = AnalyticDBClient(profile: profile, http: CurlClient())
        do {
            _ = try await client.upsertCollectionDataAsync(.init(collection: "c", namespace: nil, password: "pw"), fileURL: "http://x/y")
            Issue.record("reached")
        } catch {
            guard case .transport(let http, _) = error else { Issue.record("\(error)"); return }
            #expect(!http.reachedServer)
        }
    }
}
