import Foundation
import Profiles
import Testing

@Suite struct ProfilesTests {
    let base = """
        version: 1
        defaults: { adbpg: main }
        files: { allowed_roots: ["/data"] }
        profiles:
          main:
            provider: adbpg
            region: cn-shanghai
            instance: gp-123
            credentials:
              access_key_id: ${AK:-fallback-id}
              access_key_secret: ${SK}
            namespaces:
              public: { password: ${PW} }
            timeouts: { connect: 2s, request: 90s }
            retry: { attempts: 3, base_delay: 100ms, max_delay: 5s }
            poll: { interval: 1m }

        """

    @Test func readsTypedProfilesWithInterpolation() throws {
        let config = try ProfilesLoader.parse(base, file: "p.yaml", environment: ["SK": "s3cret-value", "PW": "pw-value"])
        let profile = try config.profile(named: nil, provider: .adbpg)
        #expect(profile.name == "main" && profile.region == "cn-shanghai" && profile.instance == "gp-123")
        #expect(profile.credentials.accessKeyID == "fallback-id")
        #expect(profile.credentials.accessKeySecret == "s3cret-value")
        #expect(profile.namespaces == ["public": "pw-value"])
        #expect(profile.requestTimeout == .seconds(90) && profile.retryBaseDelay == .milliseconds(100) && profile.pollInterval == .seconds(60))
        #expect(config.allowedRoots == ["/data"])
        #expect(!String(describing: profile.credentials).contains("s3cret"))
    }

    @Test func anUnsetVariableIsNamedWithItsPlaceButNoValue() {
        do {
            _ = try ProfilesLoader.parse(base, file: "p.yaml", environment: ["PW": "pw-value"])
            Issue.record("parsed")
        } catch {
            #expect(error.description == "p.yaml:11:26: environment variable SK is not set (use ${SK:-default} for a default)")
        }
    }

    @Test func syntaxErrorsAndUnknownKeysAreLocated() {
        #expect(throws: ProfileError.self) { try ProfilesLoader.parse("profiles: [", file: "x.yaml", environment: [:]) }
        do {
            _ = try ProfilesLoader.parse("version: 1\nprofiles:\n  a:\n    provider: adbpg\n    regoin: x\n", file: "x.yaml", environment: [:])
        } catch {
            #expect(error.mark.line == 5 && error.mark.column == 5 && error.message.contains("regoin"))
        }
    }

    @Test func aDefaultMustNameAProfileOfItsProvider() {
        let text = base.replacingOccurrences(of: "defaults: { adbpg: main }", with: "defaults: { adbpg: missing }")
        #expect(throws: ProfileError.self) { try ProfilesLoader.parse(text, file: "p.yaml", environment: ["SK": "s", "PW": "p"]) }
    }

    @Test func interpolationKeepsDollarsAndAppliesDefaults() throws {
        let mark = SourceMark(file: "f", line: 1, column: 1)
        #expect(try Interpolation.expand("a$$b ${X:-d} ${Y}", environment: ["Y": "y"], at: mark) == "a$b d y")
        #expect(try Interpolation.expand("${E:-}", environment: [:], at: mark) == "")
    }
}
