internal import CYAML
import Foundation

/// Where something is in a file (1-based line and column).
public struct SourceMark: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A YAML document as a tree of scalars, sequences and mappings, each node with its position.
public indirect enum YAMLNode: Sendable {
    case scalar(String, plain: Bool, SourceMark)
    case sequence([YAMLNode], SourceMark)
    case mapping([(key: String, keyMark: SourceMark, value: YAMLNode)], SourceMark)

    public var mark: SourceMark {
        switch self {
        case .scalar(_, _, let m), .sequence(_, let m), .mapping(_, let m): return m
        }
    }

    public subscript(key: String) -> YAMLNode? {
        if case .mapping(let pairs, _) = self { return pairs.first { $0.key == key }?.value }
        return nil
    }

    /// Parses YAML text with libyaml. Anchors and aliases are resolved; only the first document is read.
    public static func parse(_ text: String, file: String) throws(ProfileError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw ProfileError(SourceMark(file: file, line: 1, column: 1), "cannot start the YAML parser") }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(ProfileError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    let context = parser.context.map { String(cString: $0) + ": " } ?? ""
                    let mark = SourceMark(file: file, line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
                    throw ProfileError(mark, "YAML syntax error: \(context)\(problem)")
                }
                defer { yaml_event_delete(&event) }
                let done = try builder.handle(&event)
                if done { return builder.root }
            }
        }
    }

    private struct Builder {
        let file: String
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?

        enum Frame {
            case sequence([YAMLNode], SourceMark, anchor: String?)
            case mapping([(key: String, keyMark: SourceMark, value: YAMLNode)], pendingKey: (String, SourceMark)?, SourceMark, anchor: String?)
        }

        init(file: String) { self.file = file }

        func mark(_ m: yaml_mark_t) -> SourceMark { SourceMark(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1) }

        mutating func handle(_ event: inout yaml_event_t) throws(ProfileError) -> Bool {
            let position = mark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT, YAML_DOCUMENT_END_EVENT:
                return true
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                let node = YAMLNode.scalar(value, plain: s.style == YAML_PLAIN_SCALAR_STYLE, position)
                if let anchor = s.anchor { anchors[String(cString: anchor)] = node }
                try add(node)
            case YAML_SEQUENCE_START_EVENT:
                stack.append(.sequence([], position, anchor: event.data.sequence_start.anchor.map { String(cString: $0) }))
            case YAML_MAPPING_START_EVENT:
                stack.append(.mapping([], pendingKey: nil, position, anchor: event.data.mapping_start.anchor.map { String(cString: $0) }))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let node: YAMLNode
                let anchor: String?
                switch stack.removeLast() {
                case .sequence(let items, let m, let a): node = .sequence(items, m); anchor = a
                case .mapping(let pairs, _, let m, let a): node = .mapping(pairs, m); anchor = a
                }
                if let anchor { anchors[anchor] = node }
                try add(node)
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let node = anchors[name] else { throw ProfileError(position, "unknown alias *\(name)") }
                try add(node)
            default:
                break
            }
            return false
        }

        mutating func add(_ node: YAMLNode) throws(ProfileError) {
            guard let top = stack.popLast() else { root = node; return }
            switch top {
            case .sequence(var items, let m, let a):
                items.append(node)
                stack.append(.sequence(items, m, anchor: a))
            case .mapping(var pairs, let pending, let m, let a):
                if let (key, keyMark) = pending {
                    if pairs.contains(where: { $0.key == key }) { throw ProfileError(keyMark, "duplicate key \"\(key)\"") }
                    pairs.append((key: key, keyMark: keyMark, value: node))
                    stack.append(.mapping(pairs, pendingKey: nil, m, anchor: a))
                } else {
                    guard case .scalar(let key, _, let keyMark) = node else { throw ProfileError(node.mark, "mapping keys must be plain text") }
                    stack.append(.mapping(pairs, pendingKey: (key, keyMark), m, anchor: a))
                }
            }
        }
    }
}

/// A fault in a profiles file, with its position. Messages name keys and variables, never secret values.
public struct ProfileError: Error, Sendable, CustomStringConvertible {
    public let mark: SourceMark
    public let message: String

    public init(_ mark: SourceMark, _ message: String) {
        self.mark = mark
        self.message = message
    }

    public var description: String { "\(mark): \(message)" }
}
