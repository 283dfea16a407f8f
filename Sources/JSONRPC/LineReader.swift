#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into lines, with a limit on a line's size.
///
/// Scanning resumes where the last scan stopped, so a long line arriving in many reads is scanned once (no quadratic
/// rescans). A line over the limit is skipped up to its newline and reported as `.tooLong` once.
public struct LineReader {
    public enum Event {
        case line(UnsafeRawBufferPointer)
        case tooLong(bytes: Int)
    }

    public let maxLineBytes: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0          // first byte of the current line
    private var end = 0            // one past the last byte read
    private var scanned = 0        // bytes of the current line already searched for a newline
    private var discarding = false // inside an over-long line
    private var discarded = 0

    public init(maxLineBytes: Int, initialCapacity: Int = 1 << 16) {
        self.maxLineBytes = maxLineBytes
        buffer = .allocate(byteCount: max(initialCapacity, 4096), alignment: 8)
    }

    public func deallocate() { buffer.deallocate() }

    /// Reads from `fd` until at least one event is available or the stream ends; calls `body` for each event.
    /// - Returns: false at end of stream (or on a read error).
    public mutating func readEvents(from fd: Int32, _ body: (Event) -> Void) -> Bool {
        while true {
            if let event = nextEvent() {
                body(event)
                while let more = nextEvent() { body(more) }
                return true
            }
            compactAndGrowIfNeeded()
            let n = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                // A final line without a newline still counts.
                if !discarding && end > start {
                    let tail = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    start = end
                    body(.line(tail))
                }
                return false
            }
            end += n
        }
    }

    private mutating func nextEvent() -> Event? {
        while scanned < end - start {
            let from = buffer.baseAddress! + start + scanned
            let count = end - start - scanned
            if let hit = memchr(from, 0x0A, count) {
                let lineEnd = from.distance(to: UnsafeMutableRawPointer(hit)) + start + scanned
                let lineStart = start
                start = lineEnd + 1
                scanned = 0
                if discarding {
                    discarding = false
                    let total = discarded + (lineEnd - lineStart)
                    discarded = 0
                    return .tooLong(bytes: total)
                }
                var length = lineEnd - lineStart
                if length > 0 && buffer[lineStart + length - 1] == 0x0D { length -= 1 }
                if length > maxLineBytes { return .tooLong(bytes: length) }
                return .line(UnsafeRawBufferPointer(rebasing: buffer[lineStart..<(lineStart + length)]))
            }
            scanned += count
            if end - start > maxLineBytes {
                discarding = true
                discarded += end - start
                start = end
                scanned = 0
            }
        }
        return nil
    }

    private mutating func compactAndGrowIfNeeded() {
        if start > 0 {
            let live = end - start
            if live > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, live) }
            end = live
            start = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 8)
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            buffer.deallocate()
            buffer = bigger
        }
    }
}
