#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import JSON
import Synchronization

/// Line-delimited JSON-RPC over a pair of file descriptors.
///
/// A dedicated thread blocks on reads, so request handling never waits on input; every outgoing message goes through
/// one lock-protected writer, so lines never interleave however many tasks send at once.
public final class StdioConnection: Sendable {
    /// What the reader delivers.
    public enum Incoming: Sendable {
        case message(Message)
        /// A line that could not be read as a message; the error reply has already been sent.
        case rejected(RPCError)
    }

    public static let defaultMaxLineBytes = 64 << 20

    private let inputFD: Int32
    private let outputFD: Int32
    private let maxLineBytes: Int
    private let writeLock = Mutex<Bool>(false) // true once the output is broken

    public init(inputFD: Int32 = 0, outputFD: Int32 = 1, maxLineBytes: Int = StdioConnection.defaultMaxLineBytes) {
        self.inputFD = inputFD
        self.outputFD = outputFD
        self.maxLineBytes = maxLineBytes
    }

    /// Makes stdout safe for the protocol: the protocol keeps a private duplicate of fd 1, and fd 1 itself is pointed
    /// at stderr, so a stray `print` anywhere in the process can never corrupt the stream. Also ignores SIGPIPE.
    ///
    /// - Returns: the file descriptor to write protocol messages to.
    public static func guardStandardOutput() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        fflush(nil)
        let protocolFD = dup(1)
        dup2(2, 1)
        return protocolFD
    }

    /// Starts the reader thread. `onMessage` runs on the reader thread and should hand work off quickly;
    /// `onEnd` runs once when input ends.
    public func start(onMessage: @escaping @Sendable (Incoming) -> Void, onEnd: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            var reader = LineReader(maxLineBytes: maxLineBytes)
            defer { reader.deallocate() }
            var open = true
            while open {
                open = reader.readEvents(from: inputFD) { event in
                    switch event {
                    case .line(let bytes):
                        handleLine(bytes, onMessage: onMessage)
                    case .tooLong(let size):
                        let error = RPCError.invalidRequest("message of \(size) bytes exceeds the limit of \(maxLineBytes) bytes")
                        send(.error(id: nil, error: error))
                        onMessage(.rejected(error))
                    }
                }
            }
            onEnd()
        }
        thread.name = "jsonrpc-reader"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func handleLine(_ bytes: UnsafeRawBufferPointer, onMessage: @Sendable (Incoming) -> Void) {
        // Blank lines between messages are tolerated.
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        let json: JSON
        do {
            json = try JSON.parse(buffer: bytes)
        } catch {
            let reply = RPCError.parseError(error.description)
            send(.error(id: nil, error: reply))
            onMessage(.rejected(reply))
            return
        }
        do {
            onMessage(.message(try Message.decode(json)))
        } catch {
            send(.error(id: error.id, error: error.error))
            onMessage(.rejected(error.error))
        }
    }

    /// Writes one message as one line. Safe to call from any thread or task.
    public func send(_ message: Message) {
        var bytes = message.json.serializedBytes(reservingCapacity: 512)
        bytes.append(0x0A)
        writeLock.withLock { broken in
            guard !broken else { return }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(outputFD, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR || errno == EAGAIN { continue }
                        broken = true
                        return
                    }
                    offset += n
                }
            }
        }
    }
}
