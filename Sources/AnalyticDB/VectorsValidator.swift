import Foundation

/// A fault on one line of a vectors file.
public struct LineFault: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// What validating a vectors file found.
public struct VectorsReport: Sendable {
    public var rows: Int = 0
    public var dimension: Int?
    public var bytes: Int64 = 0
    public var faults: [LineFault] = []
    /// Faults beyond the ones kept.
    public var moreFaults = 0
    public var isValid: Bool { faults.isEmpty }
}

/// Checks a JSONL file of vectors as it streams: each line `{"Id": "…", "Metadata": {…}, "Vector": [numbers]}`,
/// one dimension throughout. Feed it chunks in order with `consume`, then call `finish`.
///
/// It scans bytes directly (no JSON values are built), so it runs at several hundred MB/s.
public struct VectorsValidator: Sendable {
    public static let maxFileBytes: Int64 = 200 * 1024 * 1024

    public private(set) var report = VectorsReport()
    public let maxFaults: Int
    public let maxBytes: Int64
    private var carry: [UInt8] = []
    private var line = 0

    public init(maxFaults: Int = 10, maxBytes: Int64 = VectorsValidator.maxFileBytes) {
        self.maxFaults = maxFaults
        self.maxBytes = maxBytes
    }

    /// Validates a whole file.
    public static func validate(path: String, maxFaults: Int = 10) throws -> VectorsReport {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var validator = VectorsValidator(maxFaults: maxFaults)
        let chunkSize = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(handle.fileDescriptor, buffer.baseAddress!, chunkSize)
            if n < 0 { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
            if n == 0 { break }
            validator.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            if validator.report.bytes > validator.maxBytes { break }
        }
        return validator.finish()
    }

    public var isFull: Bool { report.faults.count >= maxFaults }

    mutating func fault(_ message: String) {
        if report.faults.count < maxFaults { report.faults.append(LineFault(line: line, message: message)) } else { report.moreFaults += 1 }
    }

    /// Takes the next chunk of the file.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        let before = report.bytes
        report.bytes += Int64(chunk.count)
        if before <= maxBytes && report.bytes > maxBytes {
            line += 1
            fault("the file is larger than the \(maxBytes / 1024 / 1024) MB limit of the async upload")
            line -= 1
        }
        let base = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var start = 0
        if !carry.isEmpty {
            guard let nl = memchr(base, 0x0A, chunk.count) else { carry.append(contentsOf: chunk); return }
            let end = UnsafeRawPointer(nl) - UnsafeRawPointer(base)
            carry.append(contentsOf: UnsafeRawBufferPointer(start: base, count: end))
            let pending = carry
            carry.removeAll(keepingCapacity: true)
            pending.withUnsafeBufferPointer { checkLine($0.baseAddress!, $0.count) }
            start = end + 1
        }
        while start < chunk.count {
            guard let nl = memchr(base + start, 0x0A, chunk.count - start) else {
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: chunk.count - start))
                return
            }
            let end = UnsafeRawPointer(nl) - UnsafeRawPointer(base)
            checkLine(base + start, end - start)
            start = end + 1
        }
    }

    /// Ends the file and returns the report.
    public mutating func finish() -> VectorsReport {
        if !carry.isEmpty {
            let pending = carry
            carry.removeAll()
            pending.withUnsafeBufferPointer { checkLine($0.baseAddress!, $0.count) }
        }
        if report.rows == 0 && report.faults.isEmpty {
            line = max(line, 1)
            fault("the file holds no vectors")
        }
        return report
    }

    private mutating func checkLine(_ p: UnsafePointer<UInt8>, _ rawCount: Int) {
        line += 1
        var count = rawCount
        if count > 0 && p[count - 1] == 0x0D { count -= 1 }
        var scanner = LineScanner(p: p, end: count)
        scanner.skipSpace()
        if scanner.i == count { fault("empty line (every line must hold one vector)"); return }
        switch scanner.scanRow() {
        case .failure(let message):
            fault(message)
        case .success(let dimension):
            if let expected = report.dimension {
                if dimension != expected {
                    fault("Vector has \(dimension) dimensions, but earlier lines have \(expected)")
                    return
                }
            } else {
                report.dimension = dimension
            }
            report.rows += 1
        }
    }
}

/// Scans one line of a vectors file.
struct LineScanner {
    let p: UnsafePointer<UInt8>
    let end: Int
    var i = 0

    enum Outcome { case success(Int), failure(String) }

    @inline(__always) mutating func skipSpace() {
        while i < end, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
    }

    mutating func scanRow() -> Outcome {
        guard p[i] == UInt8(ascii: "{") else { return .failure("not a JSON object (each line must be {\"Id\": …, \"Metadata\": {…}, \"Vector\": […]})") }
        i += 1
        var seenID = false, seenVector = false, seenMetadata = false
        var dimension = 0
        skipSpace()
        if i < end && p[i] == UInt8(ascii: "}") { return .failure("missing \"Id\" and \"Vector\"") }
        while true {
            skipSpace()
            guard i < end, p[i] == UInt8(ascii: "\"") else { return .failure("invalid JSON: expected a quoted key at column \(i + 1)") }
            let keyStart = i + 1
            guard skipString() else { return .failure("invalid JSON: unterminated string at column \(keyStart)") }
            let key = String(decoding: UnsafeBufferPointer(start: p + keyStart, count: i - keyStart - 1), as: UTF8.self)
            skipSpace()
            guard i < end, p[i] == UInt8(ascii: ":") else { return .failure("invalid JSON: expected ':' after \"\(key)\"") }
            i += 1
            skipSpace()
            guard i < end else { return .failure("invalid JSON: the line ends inside the object") }
            switch key {
            case "Id":
                if seenID { return .failure("\"Id\" appears twice") }
                seenID = true
                guard p[i] == UInt8(ascii: "\"") else { return .failure("\"Id\" must be a string") }
                let start = i
                guard skipString() else { return .failure("invalid JSON: unterminated string in \"Id\"") }
                if i - start == 2 { return .failure("\"Id\" must not be empty") }
            case "Metadata":
                if seenMetadata { return .failure("\"Metadata\" appears twice") }
                seenMetadata = true
                guard p[i] == UInt8(ascii: "{") else { return .failure("\"Metadata\" must be a JSON object") }
                guard skipValue(depth: 0) else { return .failure("invalid JSON in \"Metadata\" near column \(i + 1)") }
            case "Vector":
                if seenVector { return .failure("\"Vector\" appears twice") }
                seenVector = true
                switch scanVector() {
                case .success(let n): dimension = n
                case .failure(let message): return .failure(message)
                }
            default:
                return .failure("unknown key \"\(key)\" (allowed: Id, Metadata, Vector)")
            }
            skipSpace()
            guard i < end else { return .failure("invalid JSON: the line ends inside the object") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "}") { i += 1; break }
            return .failure("invalid JSON: expected ',' or '}' at column \(i + 1)")
        }
        skipSpace()
        if i != end { return .failure("unexpected text after the JSON object at column \(i + 1)") }
        if !seenID { return .failure("missing \"Id\"") }
        if !seenVector { return .failure("missing \"Vector\"") }
        return .success(dimension)
    }

    mutating func scanVector() -> Outcome {
        guard p[i] == UInt8(ascii: "[") else { return .failure("\"Vector\" must be an array of numbers") }
        i += 1
        var n = 0
        skipSpace()
        if i < end && p[i] == UInt8(ascii: "]") { return .failure("\"Vector\" must not be empty") }
        while true {
            skipSpace()
            guard i < end else { return .failure("invalid JSON: the line ends inside \"Vector\"") }
            let c = p[i]
            guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else {
                return .failure("\"Vector\" element \(n + 1) is not a number")
            }
            guard skipNumber() else { return .failure("\"Vector\" element \(n + 1) is not a valid number") }
            n += 1
            skipSpace()
            guard i < end else { return .failure("invalid JSON: the line ends inside \"Vector\"") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "]") { i += 1; return .success(n) }
            return .failure("\"Vector\" element \(n + 1) is not a number")
        }
    }

    /// Skips a string starting at its opening quote; false if unterminated or holding raw control characters.
    @inline(__always) mutating func skipString() -> Bool {
        i += 1
        while i < end {
            let c = p[i]
            if c == UInt8(ascii: "\"") { i += 1; return true }
            if c == UInt8(ascii: "\\") { i += 2; continue }
            if c < 0x20 { return false }
            i += 1
        }
        return false
    }

    @inline(__always) mutating func skipDigits() -> Bool {
        let start = i
        while i < end, p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
        return i > start
    }

    mutating func skipNumber() -> Bool {
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end else { return false }
        if p[i] == UInt8(ascii: "0") {
            i += 1
            if i < end && p[i] >= 0x30 && p[i] <= 0x39 { return false } // no leading zeros in JSON
        } else if !skipDigits() { return false }
        if i < end && p[i] == UInt8(ascii: ".") { i += 1; guard skipDigits() else { return false } }
        if i < end && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard skipDigits() else { return false }
        }
        return true
    }

    mutating func skipLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard end - i >= n else { return false }
        for k in 0..<n where p[i + k] != literal.utf8Start[k] { return false }
        i += n
        return true
    }

    mutating func skipValue(depth: Int) -> Bool {
        guard depth < 64, i < end else { return false }
        switch p[i] {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "t"): return skipLiteral("true")
        case UInt8(ascii: "f"): return skipLiteral("false")
        case UInt8(ascii: "n"): return skipLiteral("null")
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = p[i] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            i += 1
            skipSpace()
            if i < end && p[i] == close { i += 1; return true }
            while true {
                skipSpace()
                if isObject {
                    guard i < end, p[i] == UInt8(ascii: "\""), skipString() else { return false }
                    skipSpace()
                    guard i < end, p[i] == UInt8(ascii: ":") else { return false }
                    i += 1
                    skipSpace()
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                guard i < end else { return false }
                if p[i] == UInt8(ascii: ",") { i += 1; continue }
                if p[i] == close { i += 1; return true }
                return false
            }
        default:
            return (p[i] == UInt8(ascii: "-") || (p[i] >= 0x30 && p[i] <= 0x39)) && skipNumber()
        }
    }
}
