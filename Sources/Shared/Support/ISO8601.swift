import Foundation

/// ISO-8601 UTC timestamps with milliseconds (`2026-12-03T13:23:34.123Z`), written by hand:
/// Foundation's formatter is slow to make and not needed for one fixed format.
public enum ISO8601 {
    public static func string(_ date: Date) -> String {
        string(milliseconds: Int((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public static func string(milliseconds: Int) -> String {
        var seconds = time_t(milliseconds.quotientFloor(1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds.moduloFloor(1000)), 3))Z"
    }
}

extension Int {
    fileprivate func quotientFloor(_ divisor: Int) -> Int { (self - moduloFloor(divisor)) / divisor }
    fileprivate func moduloFloor(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}
