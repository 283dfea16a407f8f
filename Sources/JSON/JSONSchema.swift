import Foundation

/// One way a value breaks a schema: where (a JSON path such as `$.rows[3].Id`), which keyword, and why.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let rule: String
    public let message: String

    public init(path: String, rule: String, message: String) {
        self.path = path
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(path): \(message) (rule: \(rule))" }
    public var json: JSON { ["path": .string(path), "rule": .string(rule), "message": .string(message)] }
}

/// Validates values against the subset of JSON Schema 2020-12 that our tool schemas use:
/// `type`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`, `enum`, `const`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`, `minItems`, `maxItems`,
/// `minProperties`, `maxProperties`, `oneOf`, `anyOf`, `allOf`, `not`, `$defs`/`$ref` (local refs only).
public struct JSONSchemaValidator: Sendable {
    public let schema: JSON

    public init(_ schema: JSON) { self.schema = schema }

    /// All violations, the first ones first; empty when the value is valid.
    public func validate(_ value: JSON, limit: Int = 20) -> [SchemaViolation] {
        var out: [SchemaViolation] = []
        check(value, against: schema, path: "$", into: &out, limit: limit)
        return out
    }

    private func resolve(_ ref: String) -> JSON? {
        guard ref.hasPrefix("#") else { return nil }
        var node: JSON? = schema
        for token in ref.dropFirst().split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }

    private func check(_ value: JSON, against schema: JSON, path: String, into out: inout [SchemaViolation], limit: Int) {
        guard out.count < limit else { return }
        if case .bool(let allowed) = schema {
            if !allowed { out.append(SchemaViolation(path: path, rule: "false", message: "no value is allowed here")) }
            return
        }
        guard case .object(let s) = schema else { return }
        func fail(_ rule: String, _ message: String) {
            out.append(SchemaViolation(path: path, rule: rule, message: message))
        }

        if let ref = s["$ref"]?.stringValue, let target = resolve(ref) {
            check(value, against: target, path: path, into: &out, limit: limit)
        }
        if let type = s["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue].compactMap { $0 }
            let actual = value.typeName
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok {
                fail("type", "expected \(allowed.joined(separator: " or ")), got \(actual)")
                return
            }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(where: { $0.numericallyEquals(value) }) {
            let listed = options.map { $0.serialized() }.joined(separator: ", ")
            fail("enum", "must be one of \(listed)")
        }
        if let constant = s["const"], !constant.numericallyEquals(value) {
            fail("const", "must be \(constant.serialized())")
        }

        switch value {
        case .string(let string):
            let length = string.unicodeScalars.count
            if let min = s["minLength"]?.intValue, length < min {
                fail("minLength", min == 1 ? "must not be empty" : "must be at least \(min) characters long")
            }
            if let max = s["maxLength"]?.intValue, length > max { fail("maxLength", "must be at most \(max) characters long") }
            if let pattern = s["pattern"]?.stringValue,
               let regex = try? NSRegularExpression(pattern: pattern),
               regex.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) == nil {
                fail("pattern", "must match the pattern \(pattern)")
            }
        case .int, .double:
            let number = value.doubleValue!
            if let min = s["minimum"]?.doubleValue, number < min { fail("minimum", "must be at least \(JSON.double(min).compactNumber)") }
            if let max = s["maximum"]?.doubleValue, number > max { fail("maximum", "must be at most \(JSON.double(max).compactNumber)") }
            if let min = s["exclusiveMinimum"]?.doubleValue, number <= min { fail("exclusiveMinimum", "must be greater than \(JSON.double(min).compactNumber)") }
            if let max = s["exclusiveMaximum"]?.doubleValue, number >= max { fail("exclusiveMaximum", "must be less than \(JSON.double(max).compactNumber)") }
        case .array(let elements):
            if let min = s["minItems"]?.intValue, elements.count < min { fail("minItems", "must have at least \(min) items") }
            if let max = s["maxItems"]?.intValue, elements.count > max { fail("maxItems", "must have at most \(max) items, got \(elements.count)") }
            let prefix = s["prefixItems"]?.arrayValue ?? []
            for (i, element) in elements.enumerated() {
                if i < prefix.count {
                    check(element, against: prefix[i], path: "\(path)[\(i)]", into: &out, limit: limit)
                } else if let items = s["items"] {
                    check(element, against: items, path: "\(path)[\(i)]", into: &out, limit: limit)
                }
                if out.count >= limit { return }
            }
        case .object(let object):
            if let required = s["required"]?.arrayValue {
                for name in required.compactMap(\.stringValue) where object[name] == nil {
                    out.append(SchemaViolation(path: path, rule: "required", message: "missing required property \"\(name)\""))
                }
            }
            if let min = s["minProperties"]?.intValue, object.count < min { fail("minProperties", "must have at least \(min) properties") }
            if let max = s["maxProperties"]?.intValue, object.count > max { fail("maxProperties", "must have at most \(max) properties") }
            let properties = s["properties"]?.objectValue ?? JSONObject()
            for (key, member) in object {
                let memberPath = Self.childPath(path, key)
                if let propertySchema = properties[key] {
                    check(member, against: propertySchema, path: memberPath, into: &out, limit: limit)
                } else if let additional = s["additionalProperties"] {
                    if additional == .bool(false) {
                        out.append(SchemaViolation(path: memberPath, rule: "additionalProperties", message: "unknown property \"\(key)\""))
                    } else {
                        check(member, against: additional, path: memberPath, into: &out, limit: limit)
                    }
                }
                if out.count >= limit { return }
            }
        default:
            break
        }

        if let all = s["allOf"]?.arrayValue {
            for sub in all { check(value, against: sub, path: path, into: &out, limit: limit) }
        }
        if let any = s["anyOf"]?.arrayValue {
            let passes = any.contains { sub in
                var scratch: [SchemaViolation] = []
                check(value, against: sub, path: path, into: &scratch, limit: 1)
                return scratch.isEmpty
            }
            if !passes { fail("anyOf", s["errorMessage"]?.stringValue ?? "must match at least one of the allowed forms") }
        }
        if let one = s["oneOf"]?.arrayValue {
            var firstFailures: [SchemaViolation] = []
            var matches = 0
            for sub in one {
                var scratch: [SchemaViolation] = []
                check(value, against: sub, path: path, into: &scratch, limit: 5)
                if scratch.isEmpty { matches += 1 } else if firstFailures.isEmpty { firstFailures = scratch }
            }
            if matches != 1 {
                let message = s["errorMessage"]?.stringValue
                    ?? (matches == 0 ? "must match exactly one of the allowed forms" : "matches more than one of the allowed forms")
                fail("oneOf", message)
            }
        }
        if let not = s["not"] {
            var scratch: [SchemaViolation] = []
            check(value, against: not, path: path, into: &scratch, limit: 1)
            if scratch.isEmpty { fail("not", s["errorMessage"]?.stringValue ?? "matches a form that is not allowed") }
        }
    }

    static func childPath(_ path: String, _ key: String) -> String {
        let simple = !key.isEmpty && key.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
        return simple ? "\(path).\(key)" : "\(path)[\(JSON.string(key).serialized())]"
    }
}

extension JSON {
    /// A number as short text: `5` rather than `5.0` for whole numbers.
    public var compactNumber: String {
        if let i = intValue { return String(i) }
        return serialized()
    }
}
