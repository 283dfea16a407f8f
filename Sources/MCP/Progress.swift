import Foundation
import JSON
import JSONRPC
import Synchronization

/// Sends `notifications/progress` for one request's progress token: strictly increasing, and at most about one
/// a second (the first report and the one that reaches the total always go out).
public final class ProgressReporter: Sendable {
    public let token: JSON
    private let sink: any MessageSink
    private let minimumInterval: Duration
    private struct State { var last: Double = -.infinity; var lastSent: ContinuousClock.Instant? }
    private let state = Mutex(State())

    public init(token: JSON, sink: any MessageSink, minimumInterval: Duration = .seconds(1)) {
        self.token = token
        self.sink = sink
        self.minimumInterval = minimumInterval
    }

    /// Reports `progress` (of `total`, when known). Reports that do not move forward, or come too soon, are dropped.
    /// - Returns: whether a notification was sent.
    @discardableResult
    public func report(_ progress: Double, total: Double? = nil, message: String? = nil) -> Bool {
        let now = ContinuousClock.now
        let send = state.withLock { state -> Bool in
            guard progress > state.last else { return false }
            let final = total.map { progress >= $0 } ?? false
            if let lastSent = state.lastSent, !final, now - lastSent < minimumInterval { return false }
            state.last = progress
            state.lastSent = now
            return true
        }
        guard send else { return false }
        var params: JSON = ["progressToken": token, "progress": Self.number(progress)]
        if let total { params["total"] = Self.number(total) }
        if let message { params["message"] = .string(message) }
        sink.send(.notification(method: "notifications/progress", params: params))
        return true
    }

    private static func number(_ d: Double) -> JSON {
        d.rounded() == d && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
    }
}
