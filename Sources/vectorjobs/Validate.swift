import AnalyticDB
import ArgumentParser
import Foundation
import JSON

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a JSONL vectors file (rows, dimension, first errors with line numbers). Exits 1 when invalid.")

    @Argument(help: "The vectors file.")
    var file: String

    @Option(name: .customLong("max-errors"), help: "How many errors to list.")
    var maxErrors: Int = 10

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let start = ContinuousClock.now
        let report: VectorsReport
        do { report = try VectorsValidator.validate(path: file, maxFaults: maxErrors) } catch {
            FileHandle.standardError.write(Data("vectorjobs: cannot read \(file): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if json {
            let out: JSON = ["file": .string(file), "valid": .bool(report.isValid), "rows": JSON(report.rows),
                             "dimension": report.dimension.map(JSON.init) ?? .null, "bytes": .int(report.bytes),
                             "seconds": .double(seconds),
                             "errors": .array(report.faults.map { ["line": JSON($0.line), "message": .string($0.message)] }),
                             "more_errors": JSON(report.moreFaults)]
            print(out.serialized())
        } else if report.isValid {
            let mbps = seconds > 0 ? Double(report.bytes) / 1_048_576 / seconds : 0
            print("\(file): valid, \(report.rows) rows of dimension \(report.dimension ?? 0), \(report.bytes) bytes (\(String(format: "%.0f", mbps)) MB/s)")
        } else {
            print("\(file): invalid")
            for fault in report.faults { print("  \(fault)") }
            if report.moreFaults > 0 { print("  … and \(report.moreFaults) more") }
        }
        if !report.isValid { throw ExitCode(1) }
    }
}
