import Foundation
import HTTP

/// Reads a `multipart/form-data` body front to back without holding it in memory: text fields are collected,
/// and the file part is copied to a destination file as it streams.
struct MultipartReader {
    struct Result {
        var fields: [String: String] = [:]
        var fileName: String?
        var fileBytes: Int64 = 0
    }

    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String { switch self { case .malformed(let m): return m } }
    }

    static func boundary(fromContentType contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("boundary=") {
                return String(trimmed.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Parses `body`, writing the part named `fileField` to `filePath`.
    static func read(_ body: HTTPBody, boundary: String, fileField: String, filePath: String) throws -> Result {
        var reader = body.makeReader()
        var buffer: [UInt8] = []
        var position = 0
        var ended = false
        var chunk = [UInt8](repeating: 0, count: 1 << 20)

        func fill() throws -> Bool {
            if ended { return false }
            if position > 0 { buffer.removeFirst(position); position = 0 }
            let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { ended = true; return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        func find(_ needle: [UInt8], from: Int) -> Int? {
            guard needle.count <= buffer.count - from else { return nil }
            let found = buffer.withUnsafeBufferPointer { hay -> Int? in
                var i = from
                let first = needle[0]
                let last = buffer.count - needle.count
                while i <= last {
                    guard let hit = memchr(hay.baseAddress! + i, Int32(first), last - i + 1) else { return nil }
                    let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - hay.baseAddress!
                    if memcmp(hay.baseAddress! + at, needle, needle.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
            return found
        }

        let opening = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        // The first boundary.
        while find(opening, from: position) == nil { guard try fill() else { throw Failure.malformed("no multipart boundary") } }
        position = find(opening, from: position)! + opening.count
        var result = Result()
        while true {
            // After a boundary: "--" ends the body, CRLF starts a part.
            while buffer.count - position < 2 { guard try fill() else { throw Failure.malformed("truncated multipart body") } }
            if buffer[position] == UInt8(ascii: "-") && buffer[position + 1] == UInt8(ascii: "-") { return result }
            position += 2
            let headerEnd = Array("\r\n\r\n".utf8)
            while find(headerEnd, from: position) == nil { guard try fill() else { throw Failure.malformed("truncated part headers") } }
            let end = find(headerEnd, from: position)!
            let headers = String(decoding: buffer[position..<end], as: UTF8.self)
            position = end + 4
            var name: String?
            var fileName: String?
            for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition") {
                for item in line.split(separator: ";") {
                    let pair = item.trimmingCharacters(in: .whitespaces)
                    if pair.hasPrefix("name=") { name = String(pair.dropFirst(5)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                    if pair.hasPrefix("filename=") { fileName = String(pair.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                }
            }
            if name == fileField {
                guard FileManager.default.createFile(atPath: filePath, contents: nil), let out = FileHandle(forWritingAtPath: filePath) else {
                    throw Failure.malformed("cannot store the object")
                }
                defer { try? out.close() }
                result.fileName = fileName
                while true {
                    if let at = find(delimiter, from: position) {
                        out.write(Data(buffer[position..<at]))
                        result.fileBytes += Int64(at - position)
                        position = at + delimiter.count
                        break
                    }
                    // Everything but a possible partial delimiter at the end is file content.
                    let safe = max(position, buffer.count - delimiter.count)
                    if safe > position {
                        out.write(Data(buffer[position..<safe]))
                        result.fileBytes += Int64(safe - position)
                        position = safe
                    }
                    guard try fill() else { throw Failure.malformed("truncated file part") }
                }
            } else {
                while find(delimiter, from: position) == nil { guard try fill() else { throw Failure.malformed("truncated part") } }
                let at = find(delimiter, from: position)!
                if let name { result.fields[name] = String(decoding: buffer[position..<at], as: UTF8.self) }
                position = at + delimiter.count
            }
        }
    }
}
