/// Jittered exponential back-off: attempt `n` (from 1) waits a random time up to `base · 2^(n-1)`, capped at
/// `maxDelay`; a server's own advice (`x-acs-retry-after`, `Retry-After`) is honoured when it asks for longer.
public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(attempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(20)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// How long to wait before retry number `retry` (1 = the first retry).
    public func delay(beforeRetry retry: Int, serverAdvice: Duration? = nil) -> Duration {
        let exponent = min(retry - 1, 20)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        let ceilingMs = max(1, Int(ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000))
        // "Equal jitter": half fixed, half random, so waits grow but never bunch up.
        let jittered = Duration.milliseconds(ceilingMs / 2 + Int.random(in: 0...(ceilingMs / 2)))
        if let serverAdvice, serverAdvice > jittered { return min(serverAdvice, maxDelay * 3) }
        return jittered
    }
}
