import Foundation

/// Issues ids with Discord's snowflake layout: milliseconds since the Discord epoch in the
/// high bits, so ids sort by creation time just like real ones (clients rely on that for
/// `after`/`before` paging).
struct SnowflakeGenerator: Sendable {
    static let discordEpochMilliseconds: UInt64 = 1_420_070_400_000

    private var last: UInt64 = 0
    private var counter: UInt64 = 0

    /// Strictly increasing, even when called many times within one millisecond.
    mutating func next(at date: Date) -> Snowflake {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        counter = (counter + 1) & 0xfff
        let candidate = ((milliseconds - Self.discordEpochMilliseconds) << 22) | counter
        last = max(candidate, last + 1)
        return String(last)
    }

    /// Discord's timestamp format (`2024-01-01T12:34:56.789000+00:00`) for the instant a snowflake encodes.
    static func timestamp(of snowflake: Snowflake) -> String {
        let milliseconds = ((UInt64(snowflake) ?? 0) >> 22) + discordEpochMilliseconds
        return discordTimestamp(millisecondsSince1970: milliseconds)
    }

    static func discordTimestamp(millisecondsSince1970 milliseconds: UInt64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: TimeInterval(milliseconds / 1000))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0,
            Int(milliseconds % 1000) * 1000
        )
    }

    /// Snowflakes must be compared as numbers: older ids can have fewer digits.
    static func numeric(_ snowflake: Snowflake) -> UInt64 {
        UInt64(snowflake) ?? 0
    }

    /// Creation time encoded in a snowflake.
    static func date(of snowflake: Snowflake) -> Date {
        let milliseconds = ((UInt64(snowflake) ?? 0) >> 22) + discordEpochMilliseconds
        return Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}
