import Foundation
import JSON
import Signing

/// Turns a document into chunks as the service's loaders and recursive splitter do, closely enough to test against.
enum Chunker {
    struct Chunk {
        var text: String
        var metadata: JSON
    }

    struct Failure: Error {
        let code: String
        let message: String
    }

    static let defaultSeparators = ["\n\n", "\n", "。", ". ", " ", ""]

    /// Reads `path` as the loader for its extension would, then splits it.
    static func chunks(path: String, fileName: String, loader: String?, size: Int, overlap: Int, separators: [String]?,
                       metadata: JSON?) throws(Failure) -> [Chunk] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(code: "DownloadFailed", message: "the document could not be read")
        }
        let ext = (fileName as NSString).pathExtension.lowercased()
        let text: String
        switch loader ?? defaultLoader(ext) {
        case "UnstructuredMarkdownLoader", "UnstructuredFileLoader", "ADBPGLoader":
            text = String(decoding: data, as: UTF8.self)
        case "UnstructuredHTMLLoader":
            text = htmlText(String(decoding: data, as: UTF8.self))
        case "JSONLoader":
            guard let json = try? JSON.parse(data) else { throw Failure(code: "DocumentParseFailed", message: "the JSON document does not parse") }
            var lines: [String] = []
            flatten(json, path: "", into: &lines)
            text = lines.joined(separator: "\n")
        case "CSVLoader":
            text = csvText(String(decoding: data, as: UTF8.self))
        default:
            throw Failure(code: "UnsupportedFileType", message: "the emulator cannot read .\(ext) documents (it reads text, Markdown, HTML, JSON and CSV)")
        }
        let pieces = split(text, size: size, overlap: overlap, separators: separators ?? defaultSeparators)
        return pieces.enumerated().map { index, piece in
            var meta = metadata ?? [:]
            meta["source"] = .string(fileName)
            meta["chunk_index"] = JSON(index)
            return Chunk(text: piece, metadata: meta)
        }
    }

    static func defaultLoader(_ ext: String) -> String {
        switch ext {
        case "md", "markdown": return "UnstructuredMarkdownLoader"
        case "html", "htm": return "UnstructuredHTMLLoader"
        case "json", "jsonl": return "JSONLoader"
        case "csv": return "CSVLoader"
        case "txt", "text", "log": return "UnstructuredFileLoader"
        default: return "Unsupported"
        }
    }

    static func htmlText(_ html: String) -> String {
        var text = html.replacingOccurrences(of: "(?is)<(script|style)[^>]*>.*?</\\1>", with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: "(?i)<(br|/p|/div|/h[1-6]|/li|/tr)[^>]*>", with: "\n", options: .regularExpression)
        text = text.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
        for (entity, char) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: char)
        }
        return text.replacingOccurrences(of: "\n{3,}", with: "\n\n", options: .regularExpression)
    }

    static func flatten(_ json: JSON, path: String, into lines: inout [String]) {
        switch json {
        case .object(let o): for (k, v) in o { flatten(v, path: path.isEmpty ? k : "\(path).\(k)", into: &lines) }
        case .array(let a): for (i, v) in a.enumerated() { flatten(v, path: "\(path)[\(i)]", into: &lines) }
        case .string(let s): lines.append("\(path): \(s)")
        default: lines.append("\(path): \(json.serialized())")
        }
    }

    /// One paragraph per row: `column: value` pairs, named by the header row.
    static func csvText(_ csv: String) -> String {
        let rows = parseCSV(csv)
        guard let header = rows.first else { return "" }
        return rows.dropFirst().map { row in
            zip(header, row).map { "\($0): \($1)" }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = text.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { field.append("\"") } else {
                            quoted = false
                            if next == "," { row.append(field); field = "" } else if next == "\n" { row.append(field); rows.append(row); row = []; field = "" } else if next != "\r" { field.append(next) }
                        }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { row.append(field); field = "" } else if c == "\n" || c == "\r\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else if c != "\r" { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows.filter { !($0.count == 1 && $0[0].isEmpty) }
    }

    /// Recursive character splitting: split on the first separator that occurs, merge pieces up to `size`
    /// characters with `overlap` characters carried over, and split too-long pieces with the next separators.
    static func split(_ text: String, size: Int, overlap: Int, separators: [String]) -> [String] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return [] }
        if trimmed.count <= size { return [trimmed] }
        let separator = separators.first { $0.isEmpty || trimmed.contains($0) } ?? ""
        let rest = Array(separators.drop { $0 != separator }.dropFirst())
        let parts: [String] = separator.isEmpty ? trimmed.map(String.init) : trimmed.components(separatedBy: separator)
        var small: [String] = []
        var out: [String] = []
        func flush() {
            let merged = merge(small, separator: separator, size: size, overlap: overlap)
            out.append(contentsOf: merged)
            small = []
        }
        for part in parts where !part.isEmpty {
            if part.count > size {
                flush()
                out.append(contentsOf: rest.isEmpty ? hardSplit(part, size: size, overlap: overlap)
                                                    : split(part, size: size, overlap: overlap, separators: rest))
            } else {
                small.append(part)
            }
        }
        flush()
        return out.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static func merge(_ parts: [String], separator: String, size: Int, overlap: Int) -> [String] {
        var chunks: [String] = []
        var window: [String] = []
        var length = 0
        func joinedLength(_ items: [String]) -> Int { items.reduce(0) { $0 + $1.count } + max(0, items.count - 1) * separator.count }
        for part in parts {
            if length + (window.isEmpty ? 0 : separator.count) + part.count > size, !window.isEmpty {
                chunks.append(window.joined(separator: separator))
                // Keep trailing pieces worth at most `overlap` characters, and room for the next part.
                while !window.isEmpty, joinedLength(window) > overlap || joinedLength(window) + separator.count + part.count > size {
                    window.removeFirst()
                }
                length = joinedLength(window)
            }
            window.append(part)
            length = joinedLength(window)
        }
        if !window.isEmpty { chunks.append(window.joined(separator: separator)) }
        return chunks
    }

    static func hardSplit(_ text: String, size: Int, overlap: Int) -> [String] {
        let chars = Array(text)
        var out: [String] = []
        var start = 0
        let step = max(1, size - overlap)
        while start < chars.count {
            out.append(String(chars[start..<min(chars.count, start + size)]))
            if start + size >= chars.count { break }
            start += step
        }
        return out
    }

    /// The emulator has no model: an embedding is a documented stand-in, SHA-256 of the text in counter mode,
    /// mapped to [-1, 1] and normalized to unit length. The same text always gets the same vector.
    static func embedding(_ text: String, dimension: Int) -> [Double] {
        var values: [Double] = []
        var counter: UInt32 = 0
        while values.count < dimension {
            let digest = Digest.sha256(Array(text.utf8) + withUnsafeBytes(of: counter.bigEndian, Array.init))
            for i in stride(from: 0, to: 32, by: 2) where values.count < dimension {
                values.append(Double(UInt16(digest[i]) << 8 | UInt16(digest[i + 1])) / 32767.5 - 1)
            }
            counter += 1
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { (($0 / norm) * 1e6).rounded() / 1e6 }
    }

    /// A token count in the spirit of embedding models: words, plus every CJK character on its own.
    static func tokens(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            if (0x4E00...0x9FFF).contains(scalar.value) || (0x3040...0x30FF).contains(scalar.value) {
                count += 1
                inWord = false
            } else if CharacterSet.alphanumerics.contains(scalar) {
                if !inWord { count += 1 }
                inWord = true
            } else {
                inWord = false
            }
        }
        return count
    }
}
