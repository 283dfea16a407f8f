/// Where outgoing messages go: the stdio connection, or a test's recorder.
public protocol MessageSink: Sendable {
    func send(_ message: Message)
}

extension StdioConnection: MessageSink {}
