import AnalyticDB
import Testing

@Suite struct VectorsValidatorTests {
    func check(_ text: String, chunk: Int = .max) -> VectorsReport {
        var validator = VectorsValidator(maxFaults: 10)
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            bytes[i..<end].withUnsafeBytes { validator.consume($0) }
            i = end
        }
        return validator.finish()
    }

    let good = """
        {"Id":"a","Metadata":{"k":"v","n":{"deep":[1,2,{"x":null}]}},"Vector":[1,-2.5,3e-2]}
        {"Vector":[0,0,0],"Id":"b"}
        {"Id":"c\\"q","Metadata":{},"Vector":[ 1 , 2 , 3 ]}

        """

    @Test func countsRowsAndTheDimension() {
        let report = check(good)
        #expect(report.isValid && report.rows == 3 && report.dimension == 3)
    }

    @Test func givesTheSameAnswerWhateverTheChunkSize() {
        let whole = check(good)
        for size in [1, 2, 7, 64] {
            let report = check(good, chunk: size)
            #expect(report.rows == whole.rows && report.dimension == whole.dimension && report.isValid)
        }
    }

    @Test func namesTheLineAndTheFault() {
        let text = """
            {"Id":"a","Vector":[1,2]}
            {"Id":"b","Vector":[1,"2"]}
            {"Id":"","Vector":[1,2]}
            {"Id":"d","Vector":[1,2,3]}
            {"Id":"e"}
            not json
            {"Id":"g","Vector":[1,2],"Extra":1}
            {"Id":"h","Vector":[1,2]} trailing
            {"Id":"i","Vector":[01,2]}
            """
        let faults = check(text).faults.map { "\($0.line): \($0.message)" }
        #expect(faults == [
            "2: \"Vector\" element 2 is not a number",
            "3: \"Id\" must not be empty",
            "4: Vector has 3 dimensions, but earlier lines have 2",
            "5: missing \"Vector\"",
            "6: not a JSON object (each line must be {\"Id\": …, \"Metadata\": {…}, \"Vector\": […]})",
            "7: unknown key \"Extra\" (allowed: Id, Metadata, Vector)",
            "8: unexpected text after the JSON object at column 27",
            "9: \"Vector\" element 1 is not a valid number",
        ])
    }

    @Test func anEmptyFileIsInvalid() {
        #expect(!check("").isValid)
        #expect(check("\n").faults.first?.message.contains("empty line") == true)
    }
}
