/// The MCP revisions this server speaks over the `initialize` handshake, newest first.
public enum ProtocolVersion {
    public static let handshakeVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    public static let latest = handshakeVersions[0]

    /// Echo the client's version when we speak it; otherwise offer our newest.
    public static func negotiate(_ requested: String?) -> String {
        guard let requested, handshakeVersions.contains(requested) else { return latest }
        return requested
    }
}
