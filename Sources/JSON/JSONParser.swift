/// A fault in JSON text, with the byte offset where it was found.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    /// Parses one JSON document from UTF-8 bytes; trailing white space is allowed, anything else is not.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSON {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result { try JSON.parse(buffer: UnsafeRawBufferPointer(buffer)) }
        }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBytes { try JSON.parse(buffer: $0) }
    }

    public static func parse(_ text: String) throws -> JSON {
        var text = text
        return try text.withUTF8 { try JSON.parse(buffer: UnsafeRawBufferPointer($0)) }
    }

    public static func parse(buffer: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw JSONParseError(message: "empty input", offset: 0)
        }
        _ = base
        var parser = JSONParser(buffer: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.end else { throw parser.error("unexpected data after the JSON value") }
        return value
    }
}

/// A recursive-descent parser over raw bytes. Depth is bounded so hostile input cannot exhaust the stack.
struct JSONParser {
    static let maxDepth = 512

    let base: UnsafePointer<UInt8>
    let end: Int
    var index = 0

    init(buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        end = buffer.count
    }

    func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: index) }

    @inline(__always) mutating func skipWhitespace() {
        while index < end {
            let c = base[index]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 } else { break }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSON {
        guard index < end else { throw error("unexpected end of input") }
        switch base[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(base[index])))'")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { throw error("invalid literal") }
        let lit = literal.utf8Start
        for i in 0..<count where base[index + i] != lit[i] { throw error("invalid literal") }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSON {
        guard depth < JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        index += 1
        var members: [(String, JSON)] = []
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject()) }
        while true {
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append((key, value))
            skipWhitespace()
            guard index < end else { throw error("unterminated object") }
            if base[index] == UInt8(ascii: ",") { index += 1; continue }
            if base[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("expected ',' or '}'")
        }
        return .object(JSONObject(members))
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSON {
        guard depth < JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        index += 1
        var elements: [JSON] = []
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < end else { throw error("unterminated array") }
            if base[index] == UInt8(ascii: ",") { index += 1; continue }
            if base[index] == UInt8(ascii: "]") { index += 1; break }
            throw error("expected ',' or ']'")
        }
        return .array(elements)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < end {
            let c = base[index]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
                index += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            index += 1
        }
        var bytes = [UInt8](UnsafeBufferPointer(start: base + start, count: index - start))
        while index < end {
            let c = base[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { bytes.append(c); index += 1; continue }
            index += 1
            guard index < end else { break }
            let e = base[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard end - index >= 6, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in string")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair in string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in string")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid unicode escape") }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape sequence")
            }
        }
        throw error("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard end - index >= 4 else { throw error("invalid unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = base[index]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid unicode escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = index
        var isInteger = true
        if base[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end, isDigit(base[index]) else { throw error("invalid number") }
        if base[index] == UInt8(ascii: "0") {
            index += 1
            if index < end && isDigit(base[index]) { throw error("leading zero in number") }
        } else {
            while index < end && isDigit(base[index]) { index += 1 }
        }
        if index < end && base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < end, isDigit(base[index]) else { throw error("invalid number") }
            while index < end && isDigit(base[index]) { index += 1 }
        }
        if index < end && (base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < end && (base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < end, isDigit(base[index]) else { throw error("invalid number") }
            while index < end && isDigit(base[index]) { index += 1 }
        }
        let text = UnsafeBufferPointer(start: base + start, count: index - start)
        if isInteger, text.count <= 18, let value = fastInt(text) { return .int(value) }
        let string = String(decoding: text, as: UTF8.self)
        if isInteger, let value = Int64(string) { return .int(value) }
        guard let value = Double(string) else { throw error("invalid number") }
        return .double(value)
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    func fastInt(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if text[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        var value: Int64 = 0
        while i < text.count { value = value &* 10 &+ Int64(text[i] &- 0x30); i += 1 }
        return negative ? -value : value
    }
}
