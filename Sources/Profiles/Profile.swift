import Foundation

public enum Provider: String, Sendable, CaseIterable {
    case adbpg
    case vikingdb
}

/// Credentials of a profile. `description` never shows a secret.
public struct Credentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String?
    public var accessKeySecret: String?
    public var securityToken: String?
    public var apiKey: String?

    public init(accessKeyID: String? = nil, accessKeySecret: String? = nil, securityToken: String? = nil, apiKey: String? = nil) {
        self.accessKeyID = accessKeyID
        self.accessKeySecret = accessKeySecret
        self.securityToken = securityToken.flatMap { $0.isEmpty ? nil : $0 }
        self.apiKey = apiKey
    }

    public var description: String { "Credentials(accessKeyID: \(accessKeyID ?? "-"), secrets: <redacted>)" }
}

/// Where the local-file flow uploads to OSS.
public enum OSSEndpointKind: Sendable, Equatable, CustomStringConvertible {
    case `public`
    case `internal`
    case accelerate
    /// An explicit `host:port` (with optional `http://` or `https://`), for loopback testing.
    case host(String)

    public var description: String {
        switch self {
        case .public: return "public"
        case .internal: return "internal"
        case .accelerate: return "accelerate"
        case .host(let h): return h
        }
    }
}

/// One named profile: which provider, where, and with which credentials.
public struct Profile: Sendable {
    public var name: String
    public var provider: Provider
    public var region: String
    public var instance: String?
    public var workspace: String?
    /// The API endpoint (`https://host` or `http://host:port`); derived from the region when nil.
    public var endpoint: String?
    public var openPlatformEndpoint: String?
    public var signature: String
    public var credentials: Credentials
    /// Namespace name → password.
    public var namespaces: [String: String]
    public var oss: OSSEndpointKind
    public var connectTimeout: Duration
    public var requestTimeout: Duration
    public var retryAttempts: Int
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    public var pollInterval: Duration
    /// Served in process by the emulator rather than over the network.
    public var embedded: Bool
    // VikingDB
    /// `host` of the data plane (default: api-vikingdb.vikingdb.{region}.volces.com); may be `http://host:port`.
    public var host: String?
    public var projectName: String?
    /// Rows per second the bulk jobs send to one collection.
    public var rowsPerSecond: Double = 1500
    /// Batches in flight at once in a bulk job.
    public var concurrency: Int = 4
    public var collections: [String: CollectionConfig] = [:]
    /// Where in the profiles file it was defined.
    public var mark: SourceMark?

    public init(name: String, provider: Provider, region: String, credentials: Credentials) {
        self.name = name
        self.provider = provider
        self.region = region
        self.signature = "v3"
        self.credentials = credentials
        self.namespaces = [:]
        self.oss = .public
        self.connectTimeout = .seconds(5)
        self.requestTimeout = .seconds(60)
        self.retryAttempts = 5
        self.retryBaseDelay = .milliseconds(200)
        self.retryMaxDelay = .seconds(20)
        self.pollInterval = .seconds(5)
        self.embedded = false
    }

    /// Every secret value of the profile, for redaction.
    public var secrets: [String] {
        [credentials.accessKeySecret, credentials.securityToken, credentials.apiKey].compactMap { $0 } + Array(namespaces.values)
    }

    /// What may be shown of the profile: no secrets, only whether they are set.
    public var summary: [String: String] {
        var out: [String: String] = ["name": name, "provider": provider.rawValue, "region": region, "signature": signature]
        out["instance"] = instance
        out["workspace"] = workspace
        out["endpoint"] = endpoint
        return out
    }
}

/// What a profile knows of a VikingDB collection (so inline writes are checked before anything is sent).
public struct CollectionConfig: Sendable, Equatable {
    /// The collection embeds text or images itself: then one row per write.
    public var vectorize: Bool
    public var primaryKey: String?
    /// The collection's field names; unknown fields are refused when this is set.
    public var fields: [String]?

    public init(vectorize: Bool = false, primaryKey: String? = nil, fields: [String]? = nil) {
        self.vectorize = vectorize
        self.primaryKey = primaryKey
        self.fields = fields
    }
}

/// A loaded profiles file (or the built-in embedded profiles).
public struct ProfilesConfig: Sendable {
    public var path: String?
    public var profiles: [Profile]
    public var defaults: [Provider: String]
    public var allowedRoots: [String]

    public init(path: String?, profiles: [Profile], defaults: [Provider: String], allowedRoots: [String]) {
        self.path = path
        self.profiles = profiles
        self.defaults = defaults
        self.allowedRoots = allowedRoots
    }

    public var secrets: [String] { profiles.flatMap(\.secrets) }

    /// The named profile, or the default for `provider` when `name` is nil.
    public func profile(named name: String?, provider: Provider) throws(ProfileLookupError) -> Profile {
        let wanted = name ?? defaults[provider] ?? profiles.first { $0.provider == provider }?.name
        guard let wanted else { throw .noProfile(provider: provider) }
        guard let profile = profiles.first(where: { $0.name == wanted }) else {
            throw .unknown(name: wanted, known: profiles.filter { $0.provider == provider }.map(\.name))
        }
        guard profile.provider == provider else { throw .wrongProvider(name: wanted, is: profile.provider, wanted: provider) }
        return profile
    }

    public func profile(named name: String) -> Profile? { profiles.first { $0.name == name } }
}

public enum ProfileLookupError: Error, Sendable, CustomStringConvertible {
    case noProfile(provider: Provider)
    case unknown(name: String, known: [String])
    case wrongProvider(name: String, is: Provider, wanted: Provider)

    public var description: String {
        switch self {
        case .noProfile(let provider):
            return "no \(provider.rawValue) profile is configured; add one to the profiles file or name one with \"profile\""
        case .unknown(let name, let known):
            return "unknown profile \"\(name)\"" + (known.isEmpty ? "" : "; known: \(known.joined(separator: ", "))")
        case .wrongProvider(let name, let actual, let wanted):
            return "profile \"\(name)\" is a \(actual.rawValue) profile, not \(wanted.rawValue)"
        }
    }
}
