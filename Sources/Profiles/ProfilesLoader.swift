import Foundation

/// Reads a profiles file: YAML, `${VAR}` interpolation, types checked, every fault located.
public enum ProfilesLoader {
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ProfileError) -> ProfilesConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ProfileError(SourceMark(file: path, line: 1, column: 1), "cannot read the profiles file: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: path, environment: environment)
    }

    public static func parse(_ text: String, file: String, environment: [String: String]) throws(ProfileError) -> ProfilesConfig {
        let start = SourceMark(file: file, line: 1, column: 1)
        guard let root = try YAMLNode.parse(shieldVariables(text), file: file) else { throw ProfileError(start, "the profiles file is empty") }
        var reader = Reader(environment: environment)
        return try reader.config(root, path: file)
    }

    static let openMark = "\u{E000}", closeMark = "\u{E001}"

    /// `${…}` holds YAML flow indicators, so `{ password: ${PW} }` would not parse. Before parsing, its braces
    /// become private-use characters (one character each, so columns in messages stay right); values get them back.
    static func shieldVariables(_ text: String) -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let close = after.firstIndex(where: { $0 == "}" || $0 == "\n" }), after[close] == "}" else {
                out += rest[start.lowerBound...]
                return out
            }
            out += "$" + openMark + after[..<close] + closeMark
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

    struct Reader {
        let environment: [String: String]

        func mapping(_ node: YAMLNode, _ what: String, allowed: Set<String>) throws(ProfileError) -> [(key: String, keyMark: SourceMark, value: YAMLNode)] {
            guard case .mapping(let pairs, _) = node else { throw ProfileError(node.mark, "\(what) must be a mapping") }
            for pair in pairs where !allowed.contains(pair.key) {
                throw ProfileError(pair.keyMark, "unknown key \"\(pair.key)\" in \(what) (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            return pairs
        }

        func string(_ node: YAMLNode, _ what: String) throws(ProfileError) -> String {
            guard case .scalar(let shielded, _, let mark) = node else { throw ProfileError(node.mark, "\(what) must be a text value") }
            let raw = shielded.replacingOccurrences(of: ProfilesLoader.openMark, with: "{")
                .replacingOccurrences(of: ProfilesLoader.closeMark, with: "}")
            return try Interpolation.expand(raw, environment: environment, at: mark)
        }

        func nonEmpty(_ node: YAMLNode, _ what: String) throws(ProfileError) -> String {
            let value = try string(node, what)
            guard !value.isEmpty else { throw ProfileError(node.mark, "\(what) must not be empty") }
            return value
        }

        func int(_ node: YAMLNode, _ what: String, range: ClosedRange<Int>) throws(ProfileError) -> Int {
            let text = try string(node, what)
            guard let value = Int(text), range.contains(value) else {
                throw ProfileError(node.mark, "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func duration(_ node: YAMLNode, _ what: String) throws(ProfileError) -> Duration {
            let text = try string(node, what).trimmingCharacters(in: .whitespaces)
            guard let value = Durations.parse(text), value > .zero else {
                throw ProfileError(node.mark, "\(what) must be a duration such as 500ms, 5s, 2m or 1h")
            }
            return value
        }

        mutating func config(_ root: YAMLNode, path: String) throws(ProfileError) -> ProfilesConfig {
            let pairs = try mapping(root, "the profiles file", allowed: ["version", "defaults", "files", "profiles"])
            var profiles: [Profile] = []
            var defaults: [Provider: String] = [:]
            var defaultMarks: [Provider: SourceMark] = [:]
            var allowedRoots = ["."]
            for (key, _, value) in pairs {
                switch key {
                case "version":
                    guard try int(value, "version", range: 1...1) == 1 else { throw ProfileError(value.mark, "unsupported version") }
                case "defaults":
                    for (providerName, keyMark, nameNode) in try mapping(value, "defaults", allowed: Set(Provider.allCases.map(\.rawValue))) {
                        _ = keyMark
                        let provider = Provider(rawValue: providerName)!
                        defaults[provider] = try nonEmpty(nameNode, "defaults.\(providerName)")
                        defaultMarks[provider] = nameNode.mark
                    }
                case "files":
                    for (fileKey, _, fileValue) in try mapping(value, "files", allowed: ["allowed_roots"]) where fileKey == "allowed_roots" {
                        guard case .sequence(let items, _) = fileValue else {
                            throw ProfileError(fileValue.mark, "files.allowed_roots must be a list of directories")
                        }
                        allowedRoots = []
                        for item in items { allowedRoots.append(try nonEmpty(item, "files.allowed_roots entry")) }
                    }
                case "profiles":
                    guard case .mapping(let entries, _) = value else { throw ProfileError(value.mark, "profiles must be a mapping of names to profiles") }
                    for (name, keyMark, node) in entries {
                        guard name.range(of: "^[A-Za-z0-9_.-]+$", options: .regularExpression) != nil else {
                            throw ProfileError(keyMark, "profile name \"\(name)\" may contain only letters, digits, '.', '_' and '-'")
                        }
                        profiles.append(try profile(name: name, node: node, keyMark: keyMark))
                    }
                default:
                    break
                }
            }
            for (provider, name) in defaults {
                guard let profile = profiles.first(where: { $0.name == name }) else {
                    throw ProfileError(defaultMarks[provider]!, "defaults.\(provider.rawValue) names \"\(name)\", which is not a profile in this file")
                }
                guard profile.provider == provider else {
                    throw ProfileError(defaultMarks[provider]!, "defaults.\(provider.rawValue) names \"\(name)\", a \(profile.provider.rawValue) profile")
                }
            }
            return ProfilesConfig(path: path, profiles: profiles, defaults: defaults, allowedRoots: allowedRoots)
        }

        static let profileKeys: Set<String> = [
            "provider", "region", "instance", "workspace", "endpoint", "openplatform_endpoint", "signature", "credentials",
            "namespaces", "oss", "timeouts", "retry", "poll",
            // VikingDB keys, accepted here and read by the VikingDB provider.
            "host", "project_name", "rate_limit", "concurrency", "collections",
        ]

        func profile(name: String, node: YAMLNode, keyMark: SourceMark) throws(ProfileError) -> Profile {
            let pairs = try mapping(node, "profile \"\(name)\"", allowed: Self.profileKeys)
            func field(_ key: String) -> YAMLNode? { pairs.first { $0.key == key }?.value }
            guard let providerNode = field("provider") else { throw ProfileError(node.mark, "profile \"\(name)\" needs a provider (adbpg or vikingdb)") }
            let providerName = try string(providerNode, "provider")
            guard let provider = Provider(rawValue: providerName) else {
                throw ProfileError(providerNode.mark, "unknown provider \"\(providerName)\" (expected adbpg or vikingdb)")
            }
            guard let regionNode = field("region") else { throw ProfileError(node.mark, "profile \"\(name)\" needs a region, such as cn-hangzhou") }
            let region = try nonEmpty(regionNode, "region")

            var credentials = Credentials()
            if let credentialsNode = field("credentials") {
                for (key, _, value) in try mapping(credentialsNode, "credentials of \"\(name)\"",
                                                   allowed: ["access_key_id", "access_key_secret", "secret_access_key", "security_token", "api_key"]) {
                    let text = try string(value, "credentials.\(key)")
                    switch key {
                    case "access_key_id": credentials.accessKeyID = text
                    case "access_key_secret", "secret_access_key": credentials.accessKeySecret = text
                    case "security_token": credentials.securityToken = text.isEmpty ? nil : text
                    case "api_key": credentials.apiKey = text.isEmpty ? nil : text
                    default: break
                    }
                }
            }
            if provider == .vikingdb {
                let hasKeys = credentials.accessKeyID?.isEmpty == false && credentials.accessKeySecret?.isEmpty == false
                guard hasKeys || credentials.apiKey != nil else {
                    throw ProfileError(field("credentials")?.mark ?? node.mark,
                                       "profile \"\(name)\" needs credentials.access_key_id and credentials.secret_access_key, or credentials.api_key")
                }
            }
            if provider == .adbpg {
                guard let id = credentials.accessKeyID, !id.isEmpty, let secret = credentials.accessKeySecret, !secret.isEmpty else {
                    throw ProfileError(field("credentials")?.mark ?? node.mark,
                                       "profile \"\(name)\" needs credentials.access_key_id and credentials.access_key_secret")
                }
            }

            var profile = Profile(name: name, provider: provider, region: region, credentials: credentials)
            profile.mark = keyMark
            if let n = field("instance") { profile.instance = try nonEmpty(n, "instance") }
            if let n = field("workspace") { profile.workspace = try nonEmpty(n, "workspace") }
            if provider == .adbpg && profile.instance == nil && profile.workspace == nil {
                throw ProfileError(node.mark, "profile \"\(name)\" needs an instance (DBInstanceId, gp-…) or a workspace (gp-ws-…)")
            }
            if let n = field("endpoint") { profile.endpoint = try endpoint(n, "endpoint") }
            if let n = field("openplatform_endpoint") { profile.openPlatformEndpoint = try endpoint(n, "openplatform_endpoint") }
            if let n = field("signature") {
                let value = try string(n, "signature").lowercased()
                guard value == "v3" || value == "v1" else { throw ProfileError(n.mark, "signature must be v3 or v1") }
                profile.signature = value
            }
            if let n = field("namespaces") {
                guard case .mapping(let entries, _) = n else { throw ProfileError(n.mark, "namespaces must map names to { password: … }") }
                for (namespace, _, value) in entries {
                    for (key, _, passwordNode) in try mapping(value, "namespace \"\(namespace)\"", allowed: ["password"]) where key == "password" {
                        profile.namespaces[namespace] = try string(passwordNode, "namespaces.\(namespace).password")
                    }
                }
            }
            if let n = field("oss") {
                for (key, _, value) in try mapping(n, "oss", allowed: ["endpoint_kind"]) where key == "endpoint_kind" {
                    let kind = try nonEmpty(value, "oss.endpoint_kind")
                    switch kind {
                    case "public": profile.oss = .public
                    case "internal": profile.oss = .internal
                    case "accelerate": profile.oss = .accelerate
                    default:
                        guard kind.contains(":") || kind.contains(".") else {
                            throw ProfileError(value.mark, "oss.endpoint_kind must be public, internal, accelerate or a host:port")
                        }
                        profile.oss = .host(kind)
                    }
                }
            }
            if let n = field("timeouts") {
                for (key, _, value) in try mapping(n, "timeouts", allowed: ["connect", "request"]) {
                    if key == "connect" { profile.connectTimeout = try duration(value, "timeouts.connect") }
                    if key == "request" { profile.requestTimeout = try duration(value, "timeouts.request") }
                }
            }
            if let n = field("retry") {
                for (key, _, value) in try mapping(n, "retry", allowed: ["attempts", "base_delay", "max_delay"]) {
                    switch key {
                    case "attempts": profile.retryAttempts = try int(value, "retry.attempts", range: 1...20)
                    case "base_delay": profile.retryBaseDelay = try duration(value, "retry.base_delay")
                    default: profile.retryMaxDelay = try duration(value, "retry.max_delay")
                    }
                }
            }
            if let n = field("host") { profile.host = try nonEmpty(n, "host") }
            if let n = field("project_name") { profile.projectName = try nonEmpty(n, "project_name") }
            if let n = field("concurrency") { profile.concurrency = try int(n, "concurrency", range: 1...64) }
            if let n = field("rate_limit") {
                for (key, _, value) in try mapping(n, "rate_limit", allowed: ["rows_per_second"]) where key == "rows_per_second" {
                    guard let rate = Double(try string(value, "rate_limit.rows_per_second")), rate > 0 else {
                        throw ProfileError(value.mark, "rate_limit.rows_per_second must be a positive number")
                    }
                    profile.rowsPerSecond = rate
                }
            }
            if let n = field("collections") {
                guard case .mapping(let entries, _) = n else { throw ProfileError(n.mark, "collections must map names to settings") }
                for (collection, _, value) in entries {
                    var config = CollectionConfig()
                    for (key, _, setting) in try mapping(value, "collection \"\(collection)\"", allowed: ["vectorize", "primary_key", "fields"]) {
                        switch key {
                        case "vectorize":
                            let text = try string(setting, "collections.\(collection).vectorize").lowercased()
                            guard ["true", "false"].contains(text) else { throw ProfileError(setting.mark, "vectorize must be true or false") }
                            config.vectorize = text == "true"
                        case "primary_key":
                            config.primaryKey = try nonEmpty(setting, "collections.\(collection).primary_key")
                        default:
                            guard case .sequence(let items, _) = setting else { throw ProfileError(setting.mark, "fields must be a list of names") }
                            config.fields = []
                            for item in items { config.fields!.append(try nonEmpty(item, "collections.\(collection).fields entry")) }
                        }
                    }
                    profile.collections[collection] = config
                }
            }
            if let n = field("poll") {
                for (key, _, value) in try mapping(n, "poll", allowed: ["interval"]) where key == "interval" {
                    profile.pollInterval = try duration(value, "poll.interval")
                }
            }
            return profile
        }

        func endpoint(_ node: YAMLNode, _ what: String) throws(ProfileError) -> String {
            var value = try nonEmpty(node, what)
            if !value.contains("://") { value = "https://" + value }
            guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ProfileError(node.mark, "\(what) must be a URL such as https://gpdb.aliyuncs.com")
            }
            while value.hasSuffix("/") { value.removeLast() }
            return value
        }
    }
}

/// Durations written as `500ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
public enum Durations {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)) else { continue }
            return .milliseconds(Int64(number * scale * 1000))
        }
        return Double(text).map { .milliseconds(Int64($0 * 1000)) }
    }
}
