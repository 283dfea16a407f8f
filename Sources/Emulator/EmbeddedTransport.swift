import Foundation
import HTTP

/// An `HTTPClient` that hands requests straight to an in-process emulator: the embedded backend. Requests are
/// signed and serialized exactly as for the network; only the socket is missing.
public struct EmbeddedTransport: HTTPClient {
    public let emulator: Emulator

    public init(emulator: Emulator) { self.emulator = emulator }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let emulator = self.emulator
        // The emulator works synchronously (SQLite, files): run it off the cooperative pool.
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: Result { () throws(HTTPError) in
                    try Self.observe(request)
                    let response = emulator.handle(request)
                    if response.status == 0 { throw .transport(code: 56, message: "connection dropped", reachedServer: true) }
                    return response
                })
            }.start()
        }
        return try result.get()
    }

    /// Runs the request's body observer over the body first, as curl's reader would while sending: an observer
    /// that throws aborts the request before the emulator stores anything.
    static func observe(_ request: HTTPRequest) throws(HTTPError) {
        guard let observer = request.bodyObserver else { return }
        var reader = request.body.makeReader()
        reader.observer = observer
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
        } catch let error as HTTPError {
            throw error
        } catch {
            throw .aborted(String(describing: error))
        }
    }
}
