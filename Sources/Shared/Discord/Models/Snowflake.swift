import Foundation

/// Discord ids: 64-bit integers, sent as decimal strings, whose top 42 bits are milliseconds
/// since Discord's epoch, so they order by creation time.
public enum Snowflake {
    public static let discordEpochMilliseconds: UInt64 = 1_420_070_400_000

    /// The smallest id created at `date`: `?after=` with it returns what was created since.
    public static func floor(at date: Date) -> String {
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        guard ms > discordEpochMilliseconds else { return "0" }
        return String((ms - discordEpochMilliseconds) << 22)
    }

    /// Orders two ids numerically (they may differ in length).
    public static func isLess(_ a: String, _ b: String) -> Bool {
        (UInt64(a) ?? 0) < (UInt64(b) ?? 0)
    }
}
