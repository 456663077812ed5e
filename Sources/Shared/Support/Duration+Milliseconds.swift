extension Duration {
    /// Whole milliseconds, for Redis (`PX`, `XAUTOCLAIM` idle times) and libcurl timeouts.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
