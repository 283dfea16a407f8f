import Store

/// Translates a CollectionDataFilter (SQL WHERE syntax over metadata fields) into SQLite over the emulator's rows:
/// comparisons (`= != <> < <= > >=`, `LIKE`, `IN (…)`, `IS [NOT] NULL`) joined by `AND`, `OR`, `NOT` and
/// parentheses; values are quoted strings or numbers; a field is `id` or a metadata key.
struct FilterSQL {
    struct Failure: Error { let message: String }

    enum Token: Equatable { case word(String), string(String), number(String), symbol(String) }

    private(set) var parameters: [SQLValue] = []
    private var tokens: [Token] = []
    private var index = 0

    static func translate(_ filter: String) throws(Failure) -> (sql: String, parameters: [SQLValue]) {
        var translator = FilterSQL()
        translator.tokens = try tokenize(filter)
        let sql = try translator.parseOr()
        guard translator.index == translator.tokens.count else { throw Failure(message: "unexpected text in the filter near token \(translator.index + 1)") }
        return (sql, translator.parameters)
    }

    static func tokenize(_ text: String) throws(Failure) -> [Token] {
        var out: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "'" {
                var s = ""
                i += 1
                while i < chars.count {
                    if chars[i] == "'" { if i + 1 < chars.count && chars[i + 1] == "'" { s.append("'"); i += 2; continue }; break }
                    s.append(chars[i]); i += 1
                }
                guard i < chars.count else { throw Failure(message: "unterminated string in the filter") }
                i += 1
                out.append(.string(s))
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                var s = String(c); i += 1
                while i < chars.count, chars[i].isNumber || chars[i] == "." { s.append(chars[i]); i += 1 }
                out.append(.number(s))
            } else if c.isLetter || c == "_" || c == "\"" {
                var s = ""
                if c == "\"" {
                    i += 1
                    while i < chars.count, chars[i] != "\"" { s.append(chars[i]); i += 1 }
                    i += 1
                } else {
                    while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { s.append(chars[i]); i += 1 }
                }
                out.append(.word(s))
            } else {
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if ["<=", ">=", "!=", "<>"].contains(two) { out.append(.symbol(two)); i += 2 } else if "=<>(),".contains(c) { out.append(.symbol(String(c))); i += 1 } else {
                    throw Failure(message: "unexpected character '\(c)' in the filter")
                }
            }
        }
        return out
    }

    private func peekKeyword(_ word: String) -> Bool {
        if index < tokens.count, case .word(let w) = tokens[index], w.uppercased() == word { return true }
        return false
    }

    private mutating func parseOr() throws(Failure) -> String {
        var left = try parseAnd()
        while peekKeyword("OR") { index += 1; left = "(\(left) OR \(try parseAnd()))" }
        return left
    }

    private mutating func parseAnd() throws(Failure) -> String {
        var left = try parseNot()
        while peekKeyword("AND") { index += 1; left = "(\(left) AND \(try parseNot()))" }
        return left
    }

    private mutating func parseNot() throws(Failure) -> String {
        if peekKeyword("NOT") { index += 1; return "(NOT \(try parseNot()))" }
        return try parsePrimary()
    }

    private mutating func value() throws(Failure) -> String {
        guard index < tokens.count else { throw Failure(message: "the filter ends where a value was expected") }
        defer { index += 1 }
        switch tokens[index] {
        case .string(let s): parameters.append(.text(s))
        case .number(let n): parameters.append(n.contains(".") ? .double(Double(n) ?? 0) : .int(Int64(n) ?? 0))
        default: throw Failure(message: "expected a quoted string or a number in the filter")
        }
        return "?"
    }

    private mutating func parsePrimary() throws(Failure) -> String {
        guard index < tokens.count else { throw Failure(message: "the filter is incomplete") }
        if tokens[index] == .symbol("(") {
            index += 1
            let inner = try parseOr()
            guard index < tokens.count, tokens[index] == .symbol(")") else { throw Failure(message: "missing ')' in the filter") }
            index += 1
            return inner
        }
        guard case .word(let field) = tokens[index] else { throw Failure(message: "expected a field name in the filter") }
        index += 1
        let column = field.lowercased() == "id" ? "id" : "json_extract(metadata, '$.\"\(field.replacingOccurrences(of: "\"", with: ""))\"')"
        guard index < tokens.count else { throw Failure(message: "the filter ends after \(field)") }
        switch tokens[index] {
        case .symbol(let op) where ["=", "!=", "<>", "<", "<=", ">", ">="].contains(op):
            index += 1
            return "\(column) \(op == "!=" ? "<>" : op) \(try value())"
        case .word(let w) where w.uppercased() == "LIKE":
            index += 1
            return "\(column) LIKE \(try value())"
        case .word(let w) where w.uppercased() == "IS":
            index += 1
            let negated = peekKeyword("NOT")
            if negated { index += 1 }
            guard peekKeyword("NULL") else { throw Failure(message: "expected NULL after IS") }
            index += 1
            return "\(column) IS \(negated ? "NOT " : "")NULL"
        case .word(let w) where w.uppercased() == "IN" || w.uppercased() == "NOT":
            let negated = w.uppercased() == "NOT"
            index += 1
            if negated { guard peekKeyword("IN") else { throw Failure(message: "expected IN after NOT") }; index += 1 }
            guard index < tokens.count, tokens[index] == .symbol("(") else { throw Failure(message: "expected ( after IN") }
            index += 1
            var values: [String] = [try value()]
            while index < tokens.count, tokens[index] == .symbol(",") { index += 1; values.append(try value()) }
            guard index < tokens.count, tokens[index] == .symbol(")") else { throw Failure(message: "missing ) after IN list") }
            index += 1
            return "\(column) \(negated ? "NOT IN" : "IN") (\(values.joined(separator: ", ")))"
        default:
            throw Failure(message: "expected a comparison after \(field)")
        }
    }
}
