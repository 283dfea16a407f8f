import AnalyticDB
import Emulator
import Foundation
import HTTP
import Jobs
import Logging
import MCP
import Profiles
import Signing
import Store
import Tools
import VikingDB

/// Where configuration comes from, as flags give it.
struct RuntimeOptions {
    var profilesPath: String?
    var stateDirectory: String?
    var emulatorPace: Double?
}

/// The composition root: profiles, state directory, job store, providers' clients, and the embedded emulator.
struct Runtime: Sendable {
    let profiles: ProfilesConfig
    let stateDirectory: String
    let jobs: JobManager
    let environment: ToolEnvironment
    let embedded: Emulator?

    static let version = "0.1.0"

    static func resolveProfilesPath(_ flag: String?) -> String? {
        if let flag { return flag }
        let env = ProcessInfo.processInfo.environment
        if let path = env["VECTORJOBS_PROFILES"], !path.isEmpty { return path }
        let fallback = NSHomeDirectory() + "/.config/vectorjobs/profiles.yaml"
        return FileManager.default.fileExists(atPath: fallback) ? fallback : nil
    }

    static func resolveStateDirectory(_ flag: String?) -> String {
        if let flag { return flag }
        if let env = ProcessInfo.processInfo.environment["VECTORJOBS_STATE_DIR"], !env.isEmpty { return env }
        return NSHomeDirectory() + "/.local/state/vectorjobs"
    }

    /// Reads the profiles file, if one is configured, and registers its secrets; throws its first fault.
    static func checkProfiles(_ options: RuntimeOptions) throws {
        if let path = resolveProfilesPath(options.profilesPath) {
            LogRouter.shared.registerSecrets(try ProfilesLoader.load(path: path).secrets)
        }
    }

    init(options: RuntimeOptions) throws {
        stateDirectory = (Self.resolveStateDirectory(options.stateDirectory) as NSString).standardizingPath
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let store = try JobStore(path: (stateDirectory as NSString).appendingPathComponent("jobs.sqlite"))
        let curl = CurlClient(userAgent: AnalyticDBClient.userAgent)

        var config: ProfilesConfig
        var emulator: Emulator?
        if let path = Self.resolveProfilesPath(options.profilesPath) {
            config = try ProfilesLoader.load(path: path)
        } else {
            let embedded = try EmbeddedBackend(stateDirectory: stateDirectory, pace: options.emulatorPace
                ?? ProcessInfo.processInfo.environment["VECTORJOBS_EMULATOR_PACE"].flatMap(Double.init), curl: curl)
            config = embedded.profiles
            emulator = embedded.emulator
        }
        LogRouter.shared.registerSecrets(config.secrets)
        profiles = config
        embedded = emulator
        let transport: any HTTPClient = emulator.map { EmbeddedTransport(emulator: $0) } ?? curl
        let clientFor: @Sendable (Profile) -> AnalyticDBClient = { profile in
            AnalyticDBClient(profile: profile, http: profile.embedded ? transport : curl)
        }
        let vikingFor: @Sendable (Profile) -> VikingDBClient = { profile in
            VikingDBClient(profile: profile, http: profile.embedded ? transport : curl)
        }
        jobs = JobManager(store: store, profiles: config, clientFor: clientFor, vikingClientFor: vikingFor)
        let downloads = (stateDirectory as NSString).appendingPathComponent("downloads")
        environment = ToolEnvironment(profiles: config, jobs: jobs, adbpgClient: clientFor, vikingClient: vikingFor,
                                      download: { url, destination in
                                          var request = HTTPRequest(method: "GET", url: url, timeout: .seconds(3600))
                                          request.responseBodyPath = destination
                                          let response = try await curl.send(request)
                                          guard response.status == 200 else { throw HTTPError.aborted("HTTP \(response.status) from \(url)") }
                                      }, downloadDirectory: downloads)
    }

    /// Starts the background work a long-lived process does: submitting queued jobs, polling, running emulated jobs.
    func startBackgroundWork() {
        jobs.startScheduler()
        embedded?.startTicker()
    }
}

/// The built-in profiles served in process by the emulator, with credentials made for this state directory.
struct EmbeddedBackend {
    let profiles: ProfilesConfig
    let emulator: Emulator

    init(stateDirectory: String, pace: Double?, curl: CurlClient) throws {
        let directory = (stateDirectory as NSString).appendingPathComponent("embedded")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let secrets = try Self.loadSecrets(directory)
        let accessKeyID = "LTAI-embedded"
        let collections = try ProcessInfo.processInfo.environment["VECTORJOBS_VIKING_COLLECTIONS"].map(VikingCollection.load)
            ?? VikingCollection.defaults
        emulator = try Emulator(configuration: Emulator.Configuration(
            dataDirectory: directory, accounts: [accessKeyID: Emulator.Account(secret: secrets.accessKeySecret)], pace: pace,
            fetch: { url, destination in
                var request = HTTPRequest(method: "GET", url: url, timeout: .seconds(3600))
                request.responseBodyPath = destination
                let response = try curl.perform(request)
                guard response.status == 200 else { throw HTTPError.aborted("HTTP \(response.status) from \(url)") }
            }, vikingCollections: collections))
        var profile = Profile(name: "embedded-adbpg", provider: .adbpg, region: "cn-hangzhou",
                              credentials: Credentials(accessKeyID: accessKeyID, accessKeySecret: secrets.accessKeySecret))
        profile.instance = "gp-embedded"
        profile.endpoint = "http://gpdb.embedded.vectorjobs"
        profile.openPlatformEndpoint = "http://openplatform.embedded.vectorjobs"
        profile.namespaces = ["public": secrets.namespacePassword]
        profile.pollInterval = .milliseconds(500)
        profile.retryAttempts = 3
        profile.embedded = true
        var viking = Profile(name: "embedded-vikingdb", provider: .vikingdb, region: "cn-beijing",
                             credentials: Credentials(accessKeyID: accessKeyID, accessKeySecret: secrets.accessKeySecret))
        viking.host = "http://api-vikingdb.embedded.vectorjobs"
        viking.embedded = true
        viking.retryAttempts = 3
        viking.rowsPerSecond = 15_000
        for collection in collections {
            viking.collections[collection.name] = CollectionConfig(vectorize: collection.vectorize, primaryKey: collection.primaryKey,
                                                                   fields: collection.fields.keys.sorted())
        }
        profiles = ProfilesConfig(path: nil, profiles: [profile, viking], defaults: [.adbpg: profile.name, .vikingdb: viking.name],
                                  allowedRoots: ["."])
    }

    struct Secrets: Codable {
        var accessKeySecret: String
        var namespacePassword: String
    }

    /// Random credentials kept (mode 0600) beside the embedded data, so every process on this directory agrees.
    static func loadSecrets(_ directory: String) throws -> Secrets {
        let path = (directory as NSString).appendingPathComponent("credentials.json")
        if let data = FileManager.default.contents(atPath: path), let secrets = try? JSONDecoder().decode(Secrets.self, from: data) {
            return secrets
        }
        let secrets = Secrets(accessKeySecret: Digest.randomBytes(20).hex, namespacePassword: Digest.randomBytes(12).hex)
        let temporary = path + ".\(getpid())"
        _ = FileManager.default.createFile(atPath: temporary, contents: try JSONEncoder().encode(secrets), attributes: [.posixPermissions: 0o600])
        // Another process may have won the race: keep whichever file landed first.
        if link(temporary, path) != 0 { unlink(temporary); return try loadSecrets(directory) }
        unlink(temporary)
        return secrets
    }
}
