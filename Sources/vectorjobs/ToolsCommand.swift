import ArgumentParser
import Foundation
import JSON
import MCP
import Tools

struct ToolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List the tools; write their schemas; print the README's tool table.")

    @Option(name: .customLong("write-schemas"), help: "Write <tool>.input.json and <tool>.output.json for every tool into this directory.")
    var writeSchemas: String?

    @Flag(help: "Print the tool table in Markdown (as in the README).")
    var markdown = false

    @Flag(help: "Print the tools as tools/list returns them.")
    var json = false

    func run() throws {
        let definitions = Catalog.definitions
        if let directory = writeSchemas {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for tool in definitions {
                for (suffix, schema) in [("input", tool.inputSchema), ("output", tool.outputSchema)] {
                    let path = (directory as NSString).appendingPathComponent("\(tool.name).\(suffix).json")
                    try (schema.prettyPrinted() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                }
            }
            print("wrote \(definitions.count * 2) schema files to \(directory)")
        } else if markdown {
            print("| tool | what it does | annotations |")
            print("|---|---|---|")
            for tool in definitions {
                let summary = tool.description.split(separator: ".").first.map(String.init) ?? tool.description
                var notes: [String] = []
                if tool.annotations.readOnly { notes.append("read-only") }
                if tool.annotations.destructive { notes.append("destructive") }
                if tool.startsJob { notes.append("starts a job") }
                print("| `\(tool.name)` | \(summary.replacingOccurrences(of: "|", with: "\\|")). | \(notes.joined(separator: ", ")) |")
            }
        } else if json {
            print(JSON.array(definitions.map(\.json)).prettyPrinted())
        } else {
            let width = definitions.map(\.name.count).max() ?? 0
            for tool in definitions { print(tool.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + tool.title) }
        }
    }
}
