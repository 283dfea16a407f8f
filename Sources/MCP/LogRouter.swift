import Foundation
import JSON
import JSONRPC
import Logging
import Synchronization

/// Where log records go: stderr (at or above `stderrLevel`) and, once a client asked with `logging/setLevel`,
/// `notifications/message` to that client. Every record passes through the redactor first, so a registered secret
/// never leaves the process, whatever code logged it.
public final class LogRouter: Sendable {
    public static let shared = LogRouter()

    private struct State {
        var stderrLevel: Logger.Level = .info
        var clientLevel: LogLevel?
        var sink: (any MessageSink)?
        var secrets: [String] = []
    }
    private let state = Mutex(State())

    public var stderrLevel: Logger.Level {
        get { state.withLock { $0.stderrLevel } }
        set { state.withLock { $0.stderrLevel = newValue } }
    }

    public func setClientLevel(_ level: LogLevel?, sink: (any MessageSink)?) {
        state.withLock { $0.clientLevel = level; $0.sink = sink }
    }

    /// Registers values that must never appear in output (secrets, passwords, tokens). Short values are ignored:
    /// masking them would mangle ordinary text.
    public func registerSecrets(_ values: [String]) {
        let useful = values.filter { $0.count >= 4 }
        state.withLock { $0.secrets.append(contentsOf: useful); $0.secrets.sort { $0.count > $1.count } }
    }

    /// `text` with every registered secret replaced by `***`.
    public func redact(_ text: String) -> String {
        let secrets = state.withLock { $0.secrets }
        var out = text
        for secret in secrets where out.contains(secret) { out = out.replacingOccurrences(of: secret, with: "***") }
        return out
    }

    func emit(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) {
        let (stderrLevel, clientLevel, sink) = state.withLock { ($0.stderrLevel, $0.clientLevel, $0.sink) }
        var text = message
        if !metadata.isEmpty {
            text += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        text = redact(text)
        if level >= stderrLevel {
            let line = "\(Self.timestamp()) \(level.rawValue.uppercased()) [\(label)] \(text)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        if let clientLevel, let sink, LogLevel(level) >= clientLevel {
            sink.send(.notification(method: "notifications/message", params: [
                "level": .string(LogLevel(level).rawValue), "logger": .string(label), "data": .string(text),
            ]))
        }
    }

    private static func timestamp() -> String {
        let now = Date()
        return ISO8601DateFormatter.string(from: now, timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }
}

extension LogLevel {
    init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}

/// A swift-log handler that sends records through `LogRouter.shared`.
public struct RoutedLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        LogRouter.shared.emit(level: event.level, label: label, message: event.message.description, metadata: merged)
    }
}
