/// Capped exponential backoff with full jitter, for retrying Redis and Discord calls.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public private(set) var attempt = 0

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the next attempt; each call doubles the ceiling up to `cap`.
    public mutating func next() -> Duration {
        let ceiling = min(cap, base * (1 << min(attempt, 20)))
        attempt += 1
        let ms = Double(ceiling.components.seconds) * 1000 + Double(ceiling.components.attoseconds) / 1e15
        return .milliseconds(Int64(Double.random(in: ms / 2...max(ms, 1))))
    }

    public mutating func reset() { attempt = 0 }
}
