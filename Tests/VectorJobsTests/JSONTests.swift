import JSON
import Testing

@Suite struct JSONTests {
    @Test func roundTripsKeepingMemberOrderAndNumberKinds() throws {
        let text = #"{"z":1,"a":[true,false,null,-0.25,3.0,1e-05],"s":"h\u00e9llo \"w\"\n","n":-9007199254740993}"#
        let value = try JSON.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "s", "n"])
        #expect(value["n"] == .int(-9007199254740993))
        #expect(value.serialized() == #"{"z":1,"a":[true,false,null,-0.25,3.0,1e-05],"s":"héllo \"w\"\n","n":-9007199254740993}"#)
    }

    @Test func decodesSurrogatePairsAndRejectsLoneOnes() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\ud83d""#) }
    }

    @Test func rejectsMalformedInputWithAnOffset() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\u{01}\"", "{} x"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSON.parse(bad) }
        }
        do {
            _ = try JSON.parse("[1, 2, x]")
            Issue.record("parsed")
        } catch let error as JSONParseError {
            #expect(error.offset == 7)
        } catch {
            Issue.record("wrong error")
        }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }

    @Test func escapesControlCharacters() {
        #expect(JSON.string("a\u{01}b\tc").serialized() == #""a\u0001b\tc""#)
    }
}

@Suite struct SchemaValidatorTests {
    let schema: JSON = [
        "type": "object",
        "properties": [
            "name": ["type": "string", "minLength": 1],
            "rows": ["type": "array", "maxItems": 2, "items": ["type": "object", "required": ["Id"],
                                                              "properties": ["Id": ["type": "string"]]]],
            "size": ["type": "integer", "minimum": 1, "maximum": 2048],
            "mode": ["enum": ["a", "b"]],
        ],
        "required": ["name"],
        "additionalProperties": false,
    ]

    @Test func namesThePathAndTheRule() {
        let violations = JSONSchemaValidator(schema).validate([
            "name": "", "rows": [["Id": "x"], ["Id": 3]], "size": 4096, "mode": "c", "extra": true,
        ])
        let found = Set(violations.map { "\($0.path) \($0.rule)" })
        #expect(found == ["$.name minLength", "$.rows[1].Id type", "$.size maximum", "$.mode enum", "$.extra additionalProperties"])
    }

    @Test func acceptsAValidValueAndWholeDoublesAsIntegers() {
        #expect(JSONSchemaValidator(schema).validate(["name": "n", "size": .double(12), "rows": []]).isEmpty)
    }

    @Test func reportsMissingRequiredProperties() {
        let violations = JSONSchemaValidator(schema).validate([:])
        #expect(violations == [SchemaViolation(path: "$", rule: "required", message: "missing required property \"name\"")])
    }
}
