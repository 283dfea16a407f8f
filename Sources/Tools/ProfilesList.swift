import JSON
import MCP
import Profiles

extension Tool {
    static let profilesList = Tool(
        name: "profiles_list",
        title: "List profiles",
        description: "Lists the configured provider profiles (never their secrets: only whether credentials are set), the default per provider, and the directories local files may be read from.",
        input: ["properties": [:]],
        output: [
            "properties": [
                "profiles_file": ["type": ["string", "null"], "description": "The profiles file in use; null for the built-in embedded profiles."],
                "profiles": [
                    "type": "array",
                    "items": [
                        "type": "object",
                        "required": ["name", "provider", "region", "default", "embedded", "namespaces", "credentials"],
                        "properties": [
                            "name": ["type": "string"], "provider": ["type": "string"], "region": ["type": "string"],
                            "instance": ["type": ["string", "null"]], "workspace": ["type": ["string", "null"]],
                            "endpoint": ["type": ["string", "null"]], "signature": ["type": "string"],
                            "default": ["type": "boolean"], "embedded": ["type": "boolean"],
                            "namespaces": ["type": "array", "items": ["type": "string"]],
                            "credentials": [
                                "type": "object",
                                "properties": ["access_key_id": ["type": ["string", "null"]], "access_key_secret_set": ["type": "boolean"],
                                               "security_token_set": ["type": "boolean"], "api_key_set": ["type": "boolean"]],
                            ],
                        ],
                    ],
                ],
                "allowed_roots": ["type": "array", "items": ["type": "string"]],
            ],
            "required": ["profiles_file", "profiles", "allowed_roots"],
        ],
        annotations: .local
    ) { _, _, environment throws(ToolFailure) in
        let config = environment.profiles
        let profiles: [JSON] = config.profiles.map { p in
            let isDefault = config.defaults[p.provider] == p.name
                || (config.defaults[p.provider] == nil && config.profiles.first { $0.provider == p.provider }?.name == p.name)
            return [
                "name": .string(p.name), "provider": .string(p.provider.rawValue), "region": .string(p.region),
                "instance": JSON(p.instance), "workspace": JSON(p.workspace), "endpoint": JSON(p.endpoint),
                "signature": .string(p.signature), "default": .bool(isDefault), "embedded": .bool(p.embedded),
                "namespaces": .array(p.namespaces.keys.sorted().map(JSON.string)),
                "credentials": [
                    "access_key_id": JSON(p.credentials.accessKeyID),
                    "access_key_secret_set": .bool(p.credentials.accessKeySecret?.isEmpty == false),
                    "security_token_set": .bool(p.credentials.securityToken != nil),
                    "api_key_set": .bool(p.credentials.apiKey != nil),
                ],
            ]
        }
        return ["profiles_file": JSON(config.path), "profiles": .array(profiles),
                "allowed_roots": .array(config.allowedRoots.map(JSON.string))]
    }
}
