import Foundation
import JSONRPC
import Testing

@Suite struct LineReaderTests {
    /// Feeds `input` through a pipe and collects what the reader makes of it.
    func events(_ input: [UInt8], limit: Int) -> [String] {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let writeEnd = fds[1]
        let writer = Thread {
            input.withUnsafeBytes { _ = write(writeEnd, $0.baseAddress!, $0.count) }
            close(writeEnd)
        }
        writer.start()
        var reader = LineReader(maxLineBytes: limit, initialCapacity: 16)
        defer { reader.deallocate() }
        var out: [String] = []
        while reader.readEvents(from: fds[0], { event in
            switch event {
            case .line(let bytes): out.append(String(decoding: bytes, as: UTF8.self))
            case .tooLong(let n): out.append("<too long: \(n)>")
            }
        }) {}
        close(fds[0])
        return out
    }

    @Test func splitsLinesAcrossReadsAndDropsCarriageReturns() {
        let text = "first\r\n" + String(repeating: "x", count: 5000) + "\nlast"
        #expect(events(Array(text.utf8), limit: 10_000) == ["first", String(repeating: "x", count: 5000), "last"])
    }

    @Test func skipsAnOverLongLineOnceAndKeepsReading() {
        let text = "ok\n" + String(repeating: "y", count: 100_000) + "\nafter\n"
        let out = events(Array(text.utf8), limit: 1000)
        #expect(out.count == 3 && out[0] == "ok" && out[1].hasPrefix("<too long") && out[2] == "after")
    }
}
