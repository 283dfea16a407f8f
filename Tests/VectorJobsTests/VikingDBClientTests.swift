import Emulator
import Foundation
import HTTP
import JSON
import Profiles
import Testing
import VikingDB

/// The VikingDB client against the emulator in process (signed, with STS tokens and API keys).
@Suite struct VikingDBClientTests {
    static func emulator(token: String? = nil, apiKeys: [String] = []) throws -> Emulator {
        try Emulator(configuration: .init(dataDirectory: NSTemporaryDirectory() + "viking-\(UUID().uuidString)",
                                          accounts: ["AKLT": .init(secret: "sk-viking", securityToken: token)], apiKeys: apiKeys))
    }

    static func client(_ emulator: Emulator, token: String? = nil, apiKey: String? = nil) -> VikingDBClient {
        var profile = Profile(name: "v", provider: .vikingdb, region: "cn-beijing",
                              credentials: Credentials(accessKeyID: apiKey == nil ? "AKLT" : nil, accessKeySecret: apiKey == nil ? "sk-viking" : nil,
                                                       securityToken: token, apiKey: apiKey))
        profile.host = "http://vikingdb.test"
        profile.retryAttempts = 1
        return VikingDBClient(profile: profile, http: EmbeddedTransport(emulator: emulator))
    }

    @Test func stsTokensAreSignedAndChecked() async throws {
        let emulator = try Self.emulator(token: "STS.viking-token")
        let ok = Self.client(emulator, token: "STS.viking-token")
        _ = try await ok.upsert(.name("demo"), data: [["id": 7, "vec": [1, 2, 3, 4], "tag": "x"]])
        let fetched = try await ok.fetch(.resourceID("vdb-demo"), ids: [7])
        #expect(fetched["result"]?["fetch"]?[0]?["fields"]?["tag"] == "x")
        do {
            _ = try await Self.client(emulator, token: "STS.other").fetch(.name("demo"), ids: [7])
            Issue.record("accepted a wrong token")
        } catch {
            guard case .api(401, "InvalidSecurityToken", _, _, _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func apiKeysAreBearerTokens() async throws {
        let emulator = try Self.emulator(apiKeys: ["vk-1"])
        _ = try await Self.client(emulator, apiKey: "vk-1").upsert(.name("demo"), data: [["id": 1, "vec": [0, 0, 0, 1]]])
        await #expect(throws: VikingDBError.self) {
            _ = try await Self.client(emulator, apiKey: "vk-2").fetch(.name("demo"), ids: [1])
        }
    }

    @Test func invalidRowsAreNotRetriedButFaultsAre() async throws {
        let emulator = try Self.emulator()
        do {
            _ = try await Self.client(emulator).upsert(.name("demo"), data: [["id": 0, "vec": [1, 2, 3, 4]]])
            Issue.record("accepted key 0")
        } catch {
            #expect(!error.isRetryable)
            #expect(error.description.contains("InvalidParameter"))
        }
        #expect(VikingDBError.api(status: 429, code: "RequestLimitExceeded", message: "", requestID: nil, retryAfter: nil).isRetryable)
        #expect(VikingDBError.api(status: 503, code: "ServiceUnavailable", message: "", requestID: nil, retryAfter: nil).isRetryable)
        #expect(VikingDBError.transport(.transport(code: 56, message: "reset", reachedServer: true)).isRetryable)
    }
}
